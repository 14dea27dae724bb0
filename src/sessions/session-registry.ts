import { createHash } from "node:crypto";

/** Where one session lives and whose it is. */
export interface SessionRecord {
  readonly id: string;
  /** The id of the principal that opened it (`Principal.id`). */
  readonly owner: string;
  /** Base URL of the replica that holds the session (`server.replicaUrl`), where others forward to. */
  readonly replica: string;
  /** Epoch milliseconds at which the record lapses unless the session is used again. */
  readonly expiresAt: number;
}

/** The limits every replica applies the same way (from `server.sessions`). */
export interface RegistryLimits {
  /** Idle time after which a record lapses; every use extends it. */
  readonly ttlMs: number;
  /** Sessions one owner may hold across all replicas; the least recently used beyond it go. */
  readonly maxPerUser: number;
}

/**
 * Which replica owns each 2025-era session, shared by every replica (Redis) or private to one
 * process (memory). A session object cannot move between processes, so the registry only says
 * where it is: a replica that gets a request for a session held elsewhere forwards it there.
 * Records are keyed by owner and id together: a lookup under another owner finds nothing, exactly
 * as for an id never issued.
 */
export interface SessionRegistry {
  /**
   * Records a new session and enforces `maxPerUser` across replicas: returns the ids of the owner's
   * least recently used sessions beyond the cap, already removed from the registry.
   */
  register(record: Omit<SessionRecord, "expiresAt">, limits: RegistryLimits): Promise<readonly string[]>;
  /** The record, when it exists, has not lapsed and belongs to `owner`. */
  lookup(owner: string, id: string): Promise<SessionRecord | undefined>;
  /** The session was used: extends its expiry. `false` when it is gone (lapsed, evicted, removed). */
  touch(owner: string, id: string, limits: RegistryLimits): Promise<boolean>;
  /** Whether the record exists, without extending it (the owner's sweep for sessions evicted elsewhere). */
  exists(owner: string, id: string): Promise<boolean>;
  remove(owner: string, id: string): Promise<void>;
  /** Live sessions of one owner across replicas. */
  count(owner: string): Promise<number>;
  /**
   * True when other processes see the same records (a replica then forwards requests for sessions
   * it does not hold, and `server.stateKeys` must be shared).
   */
  readonly shared: boolean;
  /** Releases what the registry holds (connections, timers). */
  close(): Promise<void>;
}

/**
 * The owner as it appears in shared storage: a SHA-256 digest (base64url, 128 bits), so Redis keys
 * carry no user ids. Stable across replicas.
 */
export function ownerKey(owner: string): string {
  return createHash("sha256").update(owner).digest().subarray(0, 16).toString("base64url");
}
