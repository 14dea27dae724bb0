import type { RegistryLimits, SessionRecord, SessionRegistry } from "./session-registry.js";

interface Entry {
  readonly replica: string;
  expiresAt: number;
  lastSeen: number;
}

/**
 * The in-process registry: the default for one replica. Passing one instance to several hosts in
 * the same process (tests, `createMcpHost({ sessionRegistry })`) makes them behave as replicas that
 * share it. Lapsed records are dropped whenever their owner's records are read.
 *
 * @example
 * const registry = createMemorySessionRegistry();
 * const a = createMcpHost({ ...options, sessionRegistry: registry });
 */
export function createMemorySessionRegistry(options: { shared?: boolean } = {}): SessionRegistry {
  const owners = new Map<string, Map<string, Entry>>();

  function live(owner: string): Map<string, Entry> | undefined {
    const entries = owners.get(owner);
    if (entries === undefined) return undefined;
    const now = Date.now();
    for (const [id, entry] of entries) if (entry.expiresAt <= now) entries.delete(id);
    if (entries.size === 0) owners.delete(owner);
    return entries.size === 0 ? undefined : entries;
  }

  return {
    shared: options.shared ?? true,
    register(record, limits: RegistryLimits) {
      const now = Date.now();
      let entries = live(record.owner);
      if (entries === undefined) {
        entries = new Map();
        owners.set(record.owner, entries);
      }
      entries.set(record.id, { replica: record.replica, expiresAt: now + limits.ttlMs, lastSeen: now });
      const evicted = [...entries]
        .sort(([, a], [, b]) => a.lastSeen - b.lastSeen)
        .slice(0, Math.max(0, entries.size - limits.maxPerUser))
        .map(([id]) => id);
      for (const id of evicted) entries.delete(id);
      return Promise.resolve(evicted);
    },
    lookup(owner, id) {
      const entry = live(owner)?.get(id);
      const record: SessionRecord | undefined =
        entry === undefined ? undefined : { id, owner, replica: entry.replica, expiresAt: entry.expiresAt };
      return Promise.resolve(record);
    },
    touch(owner, id, limits) {
      const entry = live(owner)?.get(id);
      if (entry === undefined) return Promise.resolve(false);
      entry.lastSeen = Date.now();
      entry.expiresAt = entry.lastSeen + limits.ttlMs;
      return Promise.resolve(true);
    },
    exists(owner, id) {
      return Promise.resolve(live(owner)?.has(id) === true);
    },
    remove(owner, id) {
      const entries = owners.get(owner);
      entries?.delete(id);
      if (entries?.size === 0) owners.delete(owner);
      return Promise.resolve();
    },
    count(owner) {
      return Promise.resolve(live(owner)?.size ?? 0);
    },
    close() {
      owners.clear();
      return Promise.resolve();
    },
  };
}
