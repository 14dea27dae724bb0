import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { internalsOf } from "../host-internals.js";
import type { McpHost } from "../host-options.js";
import { createNodeHandler } from "./handler.js";

export interface ServeOptions {
  /** Default: `PORT`, else 8080. `0` picks a free port. */
  readonly port?: number;
  /** Default: `HOST`, else `127.0.0.1` (set `0.0.0.0` to listen on every interface). */
  readonly host?: string;
  /** Drain and close on SIGTERM and SIGINT. Default: true. */
  readonly handleSignals?: boolean;
}

export interface RunningServer {
  /** The MCP endpoint's URL on the address it listens on. */
  readonly url: URL;
  readonly port: number;
  readonly server: Server;
  /**
   * Graceful stop: readiness turns false, no new connections are accepted, requests in flight get
   * up to `server.shutdownGraceMs` to finish, then every connection is closed and the host too.
   */
  close(): Promise<void>;
}

function portFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new RangeError(`PORT must be an integer from 0 to 65535, got "${value}"`);
  return port;
}

/**
 * Serves the host on `node:http` with the timeouts and limits of its configuration, and resolves
 * once it listens.
 *
 * @example
 * const running = await serve(host, { port: 8080 });
 * console.log(`MCP endpoint: ${running.url}`);
 */
export async function serve(host: McpHost, options: ServeOptions = {}): Promise<RunningServer> {
  const internals = internalsOf(host);
  // An OpenTelemetry SDK started after the host was built (as the CLI does) gets Paved's metrics too.
  internals.telemetry.metrics.bind();
  const limits = internals.config.server;
  const port = options.port ?? portFrom(process.env["PORT"]) ?? 8080;
  const hostname = options.host ?? (process.env["HOST"] || "127.0.0.1");
  const handler = createNodeHandler(host);
  let active = 0;
  let idle: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts above only this often (default 30 s): slow clients would linger.
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      requireHostHeader: true,
    },
    (req, res) => {
      active++;
      res.once("close", () => {
        active--;
        if (active === 0) idle?.();
      });
      if (closing !== undefined) res.shouldKeepAlive = false;
      handler(req, res);
    },
  );

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  internals.listening(address);
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = new URL(
    `http://${urlHost === "0.0.0.0" || urlHost === "[::]" ? "localhost" : urlHost}:${address.port}${host.info.path}`,
  );

  const onSignal = (signal: NodeJS.Signals): void => {
    internals.logger.info({ signal }, "shutting down: draining in-flight requests");
    void close();
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      internals.drain();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (active > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, limits.shutdownGraceMs);
          timer.unref();
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      server.closeAllConnections();
      await host.close();
      await stopped;
    })();
    return closing;
  };
  if (options.handleSignals !== false) {
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }
  return { url, port: address.port, server, close };
}
