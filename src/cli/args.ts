// Command-line parsing: each command declares its options; anything else is a usage error
// naming what was wrong and what is accepted (exit code 2, nothing written).

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface OptionSpec {
  /** Takes a value (--seed 5) or is a switch (--json). */
  readonly value: boolean;
  readonly help: string;
}

export interface Parsed {
  readonly positional: string[];
  readonly options: Map<string, string>;
}

export function parseArgs(command: string, argv: readonly string[], spec: Record<string, OptionSpec>): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (s === undefined) {
      const accepted = Object.keys(spec).map((k) => `--${k}`).join(", ") || "none";
      throw new UsageError(`unknown option --${name} for "mmsim ${command}" (accepted: ${accepted})`);
    }
    if (!s.value) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      options.set(name, "true");
      continue;
    }
    const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || v === "") throw new UsageError(`--${name} needs a value (${s.help})`);
    options.set(name, v);
  }
  return { positional, options };
}

export function intOption(p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = p.options.get(name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${v}"`);
  }
  return Number(v);
}

/** "A..B" (inclusive), both 32-bit integers with A <= B. */
export function seedRange(v: string): { from: number; to: number } {
  const m = /^(-?\d+)\.\.(-?\d+)$/.exec(v);
  if (m === null) throw new UsageError(`--seeds must look like A..B (e.g. 1..1000), got "${v}"`);
  const from = Number(m[1]);
  const to = Number(m[2]);
  if (from > to) throw new UsageError(`--seeds ${v}: the first seed must not exceed the last`);
  if (to - from >= 10_000_000) throw new UsageError(`--seeds ${v}: at most 10000000 seeds in one sweep`);
  return { from, to };
}
