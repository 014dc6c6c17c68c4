// Every mmsim command the README and docs/ show is run here, through the real command over dist/,
// in a temporary directory (commands run in the order shown, so a schedule a shrink writes is
// there for the replay after it). A command is a line `$ mmsim ...` in a fenced block, or a line
// `mmsim ...` in a ```sh block; a `$` command's exit code must be 0 or 1 (2 is bad input), and
// the output shown under it (up to the next command or the block's end, `...` lines left out)
// must appear in its real output, in that order. A machine file a command names is the JSON block
// shown before it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "mmsim.js");

interface Shown {
  readonly file: string;
  readonly line: number;
  readonly args: string[];
  /** The output lines shown under it (null: none shown, as in a ```sh block of bare commands). */
  readonly output: string[] | null;
  /** The last JSON block before it in the same file. */
  readonly json: string | null;
}

/** The commands of one Markdown file, in order. */
function commands(file: string): Shown[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const out: Shown[] = [];
  let fence: string | null = null;
  let json: string[] | null = null;
  let lastJson: string | null = null;
  let current: { line: number; args: string[]; output: string[] | null } | null = null;
  const flush = () => {
    if (current !== null) out.push({ file, ...current, json: lastJson });
    current = null;
  };
  lines.forEach((raw, i) => {
    const l = raw.trim();
    if (l.startsWith("```")) {
      if (fence === null) {
        fence = l.slice(3);
        if (fence === "json") json = [];
      } else {
        flush();
        if (json !== null) lastJson = json.join("\n");
        json = null;
        fence = null;
      }
      return;
    }
    if (fence === null) return;
    if (json !== null) return void json.push(raw);
    const dollar = /^\$ (mmsim .*)$/.exec(l);
    const bare = fence === "sh" ? /^(mmsim .*)$/.exec(l) : null;
    const cmd = dollar ?? bare;
    if (cmd !== null) {
      flush();
      const text = cmd[1]!.replace(/\s+#.*$/, "");
      current = { line: i + 1, args: text.split(/\s+/).slice(1), output: dollar !== null ? [] : null };
    } else if (current?.output && l !== "" && l !== "...") current.output.push(l);
  });
  flush();
  return out;
}

const files = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const shown = files.flatMap(commands);

test("the README and docs/ show mmsim commands (the parser finds them)", () => {
  assert.ok(shown.filter((c) => c.file === "README.md").length >= 7, JSON.stringify(shown.map((c) => `${c.file}:${c.line}`)));
});

for (const file of files) {
  const cmds = shown.filter((c) => c.file === file);
  if (cmds.length === 0) continue;
  test(`every command ${file} shows runs as shown`, () => {
    const dir = mkdtempSync(join(tmpdir(), "mmsim-docs-"));
    try {
      for (const c of cmds) {
        const args = c.args.map((a) => {
          // A scenario file of the repository, named as from its root.
          if ((a.startsWith("scenarios/") || a.startsWith("examples/")) && existsSync(join(ROOT, a.replace(/#.*$/, "")))) return join(ROOT, a);
          if (a.endsWith(".json") && !existsSync(join(dir, a)) && c.json !== null && !a.includes("schedule")) writeFileSync(join(dir, a), c.json);
          return a;
        });
        const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: dir });
        const where = `${c.file}:${c.line} mmsim ${c.args.join(" ")}`;
        assert.ok(r.status === 0 || r.status === 1, `${where}: exit ${r.status}\n${r.stderr}`);
        const actual = (r.stdout + r.stderr).split("\n").map((l) => l.trim());
        let at = 0;
        for (const want of c.output ?? []) {
          const found = actual.indexOf(want, at);
          assert.ok(found >= 0, `${where}: the line shown\n  ${want}\nis not in its output (after line ${at}):\n${r.stdout}${r.stderr}`);
          at = found + 1;
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("docs/reference.md is what bin/reference.mjs writes from the current declarations", () => {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "reference.mjs"), "--check"], { encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
});

test.run();
