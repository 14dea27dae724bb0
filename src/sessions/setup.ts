import { randomUUID } from "node:crypto";
import { networkInterfaces } from "node:os";
import type { PavedConfig } from "../config/schema.js";
import { ConfigError } from "../errors.js";
import type { ReadinessCheck } from "../http/routes.js";
import { createKeyRing } from "../state/key-ring.js";
import { createRequestStateSealer, type RequestStateSealer } from "../state/request-state.js";
import type { Logger } from "../telemetry/logger.js";
import { createForwarder } from "./forwarder.js";
import { MemoryEventStore } from "./memory-event-store.js";
import { createMemorySessionRegistry } from "./memory-session-registry.js";
import { connectRedis, type RedisConnection } from "./redis-connection.js";
import { createRedisEventStore, type SessionEventStore } from "./redis-event-store.js";
import { createRedisSessionRegistry } from "./redis-session-registry.js";
import { createReplicaRouter, type ReplicaRouter } from "./replica-router.js";
import type { SessionRegistry } from "./session-registry.js";

/** Longest wait for a TCP connection to the replica holding a session before it counts as gone. */
const FORWARD_CONNECT_TIMEOUT_MS = 2_000;

/** Where a server listens, as `serve()` reports it. */
export interface ListeningAddress {
  readonly address: string;
  readonly port: number;
  readonly family: string;
}

/** What stateful mode needs to span replicas, built once from the configuration. */
export interface ScaleOut {
  /** Seals 2026-07-28 `requestState` with the shared key ring (every mode). */
  readonly requestState: RequestStateSealer;
  /** The session manager's cross-replica parts; `undefined` in stateless mode. */
  readonly sessions:
    | {
        readonly registry: SessionRegistry;
        readonly router: ReplicaRouter;
        readonly eventStore: (sessionId: string, owner: string) => SessionEventStore;
        readonly replicaUrl: () => string;
      }
    | undefined;
  /** `/readyz` check `sessions` when the registry is on Redis. */
  readonly readiness: ReadinessCheck | undefined;
  /** `serve()` reports its address: the default `server.replicaUrl`. */
  readonly listening: (address: ListeningAddress) => void;
  close(): Promise<void>;
}

/** The address peers reach: the listening one, or for a wildcard bind the first non-loopback IPv4. */
export function deriveReplicaUrl(listening: ListeningAddress): string {
  let host = listening.address;
  if (host === "0.0.0.0" || host === "::") {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((item) => item !== undefined && item.family === "IPv4" && !item.internal);
    host = external?.address ?? "127.0.0.1";
  }
  return `http://${host.includes(":") ? `[${host}]` : host}:${listening.port}`;
}

/**
 * Builds the key ring, the `requestState` sealer and, in stateful mode, the session registry (Redis
 * when `store.redis` is set, else private memory, or the host's `sessionRegistry`), the event store
 * and the forwarding between replicas.
 */
export function createScaleOut(
  config: PavedConfig,
  options: { readonly registry: SessionRegistry | undefined; readonly logger: Logger },
): ScaleOut {
  const { server, store } = config;
  const { logger } = options;
  const ring = createKeyRing(server.stateKeys);
  const requestState = createRequestStateSealer(ring);
  let listeningUrl: string | undefined;
  const listening = (address: ListeningAddress): void => {
    listeningUrl = deriveReplicaUrl(address);
  };
  if (server.stateless) {
    if (ring.ephemeral && store.redis !== undefined)
      logger.warn(
        "server.stateKeys is not set: requestState sealed by this replica is refused by the others; set the same keys on every replica",
      );
    return {
      requestState,
      sessions: undefined,
      readiness: undefined,
      listening,
      close: () => Promise.resolve(),
    };
  }

  const shared = options.registry?.shared ?? store.redis !== undefined;
  if (shared && ring.ephemeral) {
    throw new ConfigError([
      {
        key: "server.stateKeys",
        source: "default",
        expected:
          "the same keys on every replica: stateful sessions shared across replicas (store.redis) sign forwarded requests with them",
      },
    ]);
  }
  let connection: RedisConnection | undefined;
  let registry = options.registry;
  if (registry === undefined && store.redis !== undefined) {
    connection = connectRedis({ url: store.redis, logger });
    registry = createRedisSessionRegistry({ redis: connection, prefix: `${store.keyPrefix}sess:` });
  }
  registry ??= createMemorySessionRegistry({ shared: false });
  const unreachable = `unreachable:${randomUUID()}`;
  const replicaUrl = (): string => server.replicaUrl ?? listeningUrl ?? unreachable;
  const redis = connection;
  return {
    requestState,
    sessions: {
      registry,
      router: createReplicaRouter({
        registry,
        forward: createForwarder({ connectTimeoutMs: FORWARD_CONNECT_TIMEOUT_MS }),
        keys: ring.keys("forwarding"),
        replicaUrl,
        logger,
      }),
      eventStore: (sessionId, owner) => {
        if (redis === undefined) return new MemoryEventStore();
        let warned = false;
        return createRedisEventStore({
          redis,
          sessionId,
          owner,
          ttlMs: server.sessions.idleTimeoutMs,
          prefix: `${store.keyPrefix}ev:`,
          // Once per session: an outage would otherwise log every progress notification.
          onStoreFailed: (error) => {
            if (warned) return;
            warned = true;
            logger.warn(
              { err: error },
              "session events not stored (Redis unreachable): the session's streams cannot be resumed past them",
            );
          },
        });
      },
      replicaUrl,
    },
    readiness: redis === undefined ? undefined : { name: "sessions", check: () => redis.ready() },
    listening,
    async close() {
      if (redis === undefined) return;
      await registry.close();
      await redis.close();
    },
  };
}
