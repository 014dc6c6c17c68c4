// kernel/printk.c reduced to the log buffer: every line carries its virtual timestamp and the CPU
// that printed it, shown as dmesg does with CONFIG_PRINTK_TIME and the caller id:
// "[    0.001234] [  C1] message".

export interface LogLine {
  readonly ts: number;
  readonly cpu: number;
  readonly text: string;
}

export function format_log_line(l: LogLine): string {
  const sec = Math.floor(l.ts / 1e9);
  const usec = Math.floor((l.ts % 1e9) / 1e3);
  return `[${String(sec).padStart(5)}.${String(usec).padStart(6, "0")}] [${`C${l.cpu}`.padStart(4)}] ${l.text}`;
}

export class LogBuffer {
  readonly lines: LogLine[] = [];
  constructor(private readonly limit = 20000) {}
  dropped = 0;

  add(ts: number, cpu: number, text: string): void {
    for (const part of text.split("\n")) {
      if (this.lines.length >= this.limit) this.dropped++;
      else this.lines.push({ ts, cpu, text: part });
    }
  }
}

/** struct ratelimit_state (lib/ratelimit.c). */
export interface RatelimitState {
  /** Jiffies; 0 turns limiting off. */
  readonly interval: number;
  readonly burst: number;
  begin: number;
  printed: number;
  missed: number;
}

export const ratelimit_state = (interval: number, burst: number): RatelimitState => ({ interval, burst, begin: 0, printed: 0, missed: 0 });

/**
 * ___ratelimit(): true if a message may be printed now. When a new interval starts after
 * suppressed calls, `say` gets Linux's "<func>: N callbacks suppressed" line.
 */
export function ___ratelimit(rs: RatelimitState, jiffies: number, func: string, say: (line: string) => void): boolean {
  if (rs.interval === 0) return true;
  if (rs.begin === 0) rs.begin = jiffies;
  if (rs.begin + rs.interval < jiffies) {
    if (rs.missed > 0) say(`${func}: ${rs.missed} callbacks suppressed`);
    rs.begin = 0;
    rs.printed = 0;
    rs.missed = 0;
  }
  if (rs.burst > rs.printed) {
    rs.printed++;
    return true;
  }
  rs.missed++;
  return false;
}
