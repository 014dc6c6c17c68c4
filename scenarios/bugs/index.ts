// The planted-bug suite: real kernel bug patterns, each with a fixed twin that must never report.
// `npm run bench:bugs` measures how many seeds each strategy needs to find each bug.
import type { BugPair } from "./pair.ts";
import lostUpdate from "./lost-update.ts";
import abba from "./abba.ts";
import irqUnsafe from "./irq-unsafe-lock.ts";
import sleepRare from "./sleep-in-atomic-rare.ts";
import uafRace from "./use-after-free-race.ts";
import doubleFree from "./double-free-race.ts";
import percpu from "./percpu-preempt.ts";
import kmapNested from "./kmap-atomic-nested.ts";
import mempoolLeak from "./mempool-leak.ts";
import atomicUnchecked from "./atomic-unchecked.ts";
import refcountLateGet from "./refcount-race.ts";
import seqlockNoRetry from "./seqlock-no-retry.ts";

export const BUGS: readonly BugPair[] = [lostUpdate, abba, irqUnsafe, sleepRare, uafRace, doubleFree, percpu, kmapNested, mempoolLeak, atomicUnchecked, refcountLateGet, seqlockNoRetry];
