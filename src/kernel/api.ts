// mmsim/kernel: the kernel API scenario code calls, under Linux's names.
import "../sim/effect_check.ts";
export * from "./index.ts";
