// 2 ** n for n in 0..63, as a table: `2 ** n` with a variable n is a call to Math.pow, on the
// MMU model's hot paths (an address's table indexes, a TLB's page numbers).
export const POW2: readonly number[] = Array.from({ length: 64 }, (_, n) => 2 ** n);
