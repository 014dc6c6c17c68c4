// Writes docs/reference.md, the API reference, from the package's type declarations (dist/, which
// `npm run build` emits from src/ with the doc comments): every name each entry point exports
// ("mmsim/kernel", "mmsim/harness", "mmsim/testing"; the root "mmsim" is the first two), grouped
// by the module that declares it, with its declaration and its doc comment. `node
// bin/reference.mjs --check` exits 1 when docs/reference.md is not what it would write (the tests
// run that). TypeDoc is not used: it needs TypeScript 5's compiler API, and this project builds
// with TypeScript 7, which has none; the emitted declarations are regular enough to read here.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist", "src");
const OUT = join(ROOT, "docs", "reference.md");

const ENTRIES = [
  ["mmsim", "index.d.ts", "The root entry point: everything in mmsim/kernel and mmsim/harness, and what only it exports (listed here)."],
  ["mmsim/kernel", "kernel/api.d.ts", "The kernel API scenario code calls, under Linux's names."],
  ["mmsim/harness", "harness/index.d.ts", "Scenarios and runs: defining, running, shrinking, exporting a timeline; the extension points."],
  ["mmsim/testing", "testing.d.ts", "Scenarios as assertions in a test suite."],
];

/** The statements of a declaration file: each with its doc comment and text. */
function statements(text) {
  const out = [];
  let i = 0;
  let doc = null;
  const n = text.length;
  while (i < n) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    if (text.startsWith("/**", i)) {
      const end = text.indexOf("*/", i);
      doc = text.slice(i + 3, end);
      i = end + 2;
      continue;
    }
    if (text.startsWith("//", i)) {
      i = text.indexOf("\n", i);
      if (i < 0) break;
      continue;
    }
    // A statement: to a ';' or a body's closing '}' at depth 0, skipping strings and comments.
    const start = i;
    let depth = 0;
    let body = false;
    for (; i < n; i++) {
      const c = text[i];
      if (c === '"' || c === "'" || c === "`") {
        const q = c;
        for (i++; i < n && text[i] !== q; i++) if (text[i] === "\\") i++;
        continue;
      }
      if (c === "/" && text[i + 1] === "*") {
        i = text.indexOf("*/", i) + 1;
        continue;
      }
      if (c === "{" || c === "(" || c === "[") {
        if (c === "{" && depth === 0) body = true;
        depth++;
      } else if (c === "}" || c === ")" || c === "]") {
        depth--;
        if (depth === 0 && c === "}" && body && /^(export\s+)?(declare\s+)?(interface|class|enum|namespace)\b/.test(text.slice(start, start + 60))) {
          i++;
          break;
        }
      } else if (c === ";" && depth === 0) {
        i++;
        break;
      }
    }
    out.push({ doc, text: text.slice(start, i).trim() });
    doc = null;
  }
  return out;
}

/** A doc comment as Markdown: the comment's lines without their leading " * ". */
const docText = (d) =>
  d === null
    ? ""
    : d
        .split("\n")
        .map((l) => l.replace(/^\s*\* ?/, ""))
        .join("\n")
        .trim();

/** What a declaration file exports, by exported name: { kind, decl, doc, module }. */
function exportsOf(file, seen = new Map()) {
  if (seen.has(file)) return seen.get(file);
  const result = new Map();
  seen.set(file, result);
  const text = readFileSync(file, "utf8");
  const local = new Map();
  const dir = dirname(file);
  const target = (spec) => resolve(dir, spec.replace(/\.(ts|js)$/, ".d.ts"));
  for (const s of statements(text)) {
    const t = s.text;
    let m;
    if ((m = /^export \* from "([^"]+)";$/.exec(t))) {
      for (const [k, v] of exportsOf(target(m[1]), seen)) if (!result.has(k)) result.set(k, v);
    } else if ((m = /^export (?:type )?\{([^}]*)\} from "([^"]+)";$/.exec(t))) {
      const from = exportsOf(target(m[2]), seen);
      for (const part of m[1].split(",").map((p) => p.trim()).filter(Boolean)) {
        const [orig, alias] = part.replace(/^type\s+/, "").split(/\s+as\s+/);
        const v = from.get(orig);
        if (v !== undefined) result.set(alias ?? orig, v);
      }
    } else if ((m = /^export (?:declare )?(?:abstract )?(function|const|let|class|interface|type|enum) ([A-Za-z_$][\w$]*)/.exec(t))) {
      const [, kind, name] = m;
      const prev = result.get(name);
      const decl = kind === "interface" || kind === "class" ? t.slice(0, t.indexOf("{")).trim() : t.replace(/;$/, "");
      // Overloads: one entry, every signature.
      const entry = prev !== undefined && prev.kind === kind ? { ...prev, decl: `${prev.decl}\n${decl}` } : { kind, name, decl, doc: docText(s.doc), module: relative(DIST, file).replace(/\.d\.ts$/, "") };
      result.set(name, entry);
      local.set(name, entry);
    } else if ((m = /^(?:declare )?(function|const|class|interface|type) ([A-Za-z_$][\w$]*)/.exec(t))) {
      // Declared here, exported below with `export { name }`.
      const [, kind, name] = m;
      const decl = kind === "interface" || kind === "class" ? t.slice(0, t.indexOf("{")).trim() : t.replace(/;$/, "");
      local.set(name, { kind, name, decl: `export ${decl}`, doc: docText(s.doc), module: relative(DIST, file).replace(/\.d\.ts$/, "") });
    } else if ((m = /^import (?:type )?\{([^}]*)\} from "(\.[^"]+)";$/.exec(t))) {
      // Imported here, perhaps exported below with `export { name }`.
      const from = exportsOf(target(m[2]), seen);
      for (const part of m[1].split(",").map((p) => p.trim()).filter(Boolean)) {
        const [orig, alias] = part.replace(/^type\s+/, "").split(/\s+as\s+/);
        const v = from.get(orig);
        if (v !== undefined && !local.has(alias ?? orig)) local.set(alias ?? orig, v);
      }
    } else if ((m = /^export (?:type )?\{([^}]*)\};$/.exec(t))) {
      for (const part of m[1].split(",").map((p) => p.trim()).filter(Boolean)) {
        const [orig, alias] = part.replace(/^type\s+/, "").split(/\s+as\s+/);
        const v = local.get(orig);
        if (v !== undefined) result.set(alias ?? orig, v);
      }
    }
  }
  return result;
}

function render() {
  const lines = [
    "# API reference",
    "",
    "Generated by `node bin/reference.mjs` from the package's type declarations (the doc comments of",
    "`src/`); the tests check that it is current. `import { ... } from \"mmsim\"` gives everything in",
    "mmsim/kernel and mmsim/harness; mmsim/testing is its own entry point.",
    "",
  ];
  const sub = new Set(ENTRIES.slice(1).flatMap(([, file]) => [...exportsOf(join(DIST, file)).keys()]));
  for (const [entry, file, what] of ENTRIES) {
    // By the name it is exported under (a re-export may rename: READ_ONCE as smp_load_acquire).
    const names = [...exportsOf(join(DIST, file))].filter(([name]) => entry !== "mmsim" || !sub.has(name)).map(([name, e]) => (name === e.name ? e : { ...e, name, doc: e.doc !== "" ? e.doc : `${e.name} under another name.` }));
    lines.push(`## ${entry}`, "", what, "");
    const byModule = new Map();
    for (const e of names) {
      if (!byModule.has(e.module)) byModule.set(e.module, []);
      byModule.get(e.module).push(e);
    }
    for (const [mod, list] of [...byModule].sort((a, b) => a[0].localeCompare(b[0]))) {
      lines.push(`### ${mod}`, "");
      for (const e of list.sort((a, b) => a.name.localeCompare(b.name))) {
        lines.push(`- **\`${e.name}\`** (${e.kind})${e.doc !== "" ? ": " + e.doc.split(/\n\s*\n/)[0].replace(/\s*\n\s*/g, " ") : ""}`);
        lines.push("", "  ```ts", ...e.decl.split("\n").map((d) => `  ${d.trimEnd()}`), "  ```", "");
      }
    }
  }
  return lines.join("\n").replace(/\n{3,}/g, "\n\n");
}

const text = render();
if (process.argv.includes("--check")) {
  let old = "";
  try {
    old = readFileSync(OUT, "utf8");
  } catch {}
  if (old !== text) {
    process.stderr.write("docs/reference.md is not current: run npm run docs:reference (after npm run build)\n");
    process.exit(1);
  }
} else writeFileSync(OUT, text);
