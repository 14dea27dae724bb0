import type { PavedConfig } from "./config/schema.js";
import { PavedError } from "./errors.js";
import type { InboundRequest, Reply } from "./http/exchange.js";
import type { MetricsSource } from "./http/metrics-route.js";
import type { McpHost } from "./host-options.js";
import type { Logger } from "./telemetry/logger.js";
import type { ListeningAddress } from "./sessions/setup.js";
import type { Telemetry } from "./telemetry/telemetry.js";

/** What the Node adapter and the CLI need beyond the public face; not part of the public API. */
export interface HostInternals {
  handle(request: InboundRequest): Promise<Reply>;
  /** Readiness turns false; requests still in flight continue. */
  drain(): void;
  /** Starts background work (identity provider keys); resolves when ready, never rejects. */
  start(): Promise<void>;
  readonly logger: Logger;
  readonly config: PavedConfig;
  /** `serve()` reports where it listens: the default replica URL other replicas forward to. */
  listening(address: ListeningAddress): void;
  readonly telemetry: Telemetry;
  /** With `telemetry.prometheus`: where `GET /metrics` reads from (the CLI attaches the Prometheus exporter). */
  exposeMetrics(source: MetricsSource): void;
}

export const HOST_INTERNALS: unique symbol = Symbol("paved.host");

export function internalsOf(host: McpHost): HostInternals {
  const internals = (host as McpHost & { [HOST_INTERNALS]?: HostInternals })[HOST_INTERNALS];
  if (internals === undefined) throw new PavedError("ERR_HOST_OPTIONS", "Not a host made by createMcpHost");
  return internals;
}
