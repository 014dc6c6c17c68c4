// Per-object state a module keeps for each kernel or memory manager (lockdep's, KASAN's, the
// slab allocator's...): the subset of WeakMap's API the modules use, kept as a property of the
// object under the module's own symbol, so reading it on a hot path is a property load rather
// than a WeakMap lookup. The state lives and dies with its object, as with a WeakMap.
export class Slot<K extends object, V> {
  private readonly key: symbol;
  constructor(name: string) {
    this.key = Symbol(name);
  }
  get(k: K): V | undefined {
    return (k as unknown as Record<symbol, V | undefined>)[this.key];
  }
  set(k: K, v: V): this {
    (k as unknown as Record<symbol, V | undefined>)[this.key] = v;
    return this;
  }
  has(k: K): boolean {
    return (k as unknown as Record<symbol, V | undefined>)[this.key] !== undefined;
  }
}
