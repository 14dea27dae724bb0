/**
 * Freezes plain data all the way down (configuration, token claims), iteratively so that deep
 * input cannot exhaust the stack. Plain JSON has no cycles; frozen nodes are not revisited.
 */
export function deepFreeze<T>(value: T): T {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node === "object" && node !== null && !Object.isFrozen(node)) {
      Object.freeze(node);
      pending.push(...(Object.values(node) as unknown[]));
    }
  }
  return value;
}
