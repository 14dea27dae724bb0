import type { InboundRequest, Reply } from "./exchange.js";
import { jsonReply, rejection } from "./responses.js";

/** A readiness condition: `/readyz` answers 503 until every check passes. */
export interface ReadinessCheck {
  /** Short name shown in the `/readyz` body, e.g. `jwks` or `redis`. */
  readonly name: string;
  check(): boolean | Promise<boolean>;
}

export interface PublicRoutesOptions {
  readonly checks: readonly ReadinessCheck[];
  /** True once shutdown has begun: load balancers must stop sending traffic. */
  readonly draining: () => boolean;
}

/** Pipeline stage 3: the routes that need no credentials. `undefined` when the path is not one of them. */
export function createPublicRoutes(
  options: PublicRoutesOptions,
): (request: InboundRequest) => Promise<Reply | undefined> {
  return async function publicRoutes(request) {
    if (request.path !== "/healthz" && request.path !== "/readyz") return undefined;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return rejection(405, "method_not_allowed", "Method Not Allowed: use GET", {
        headers: { allow: "GET, HEAD" },
      });
    }
    if (request.path === "/healthz") return jsonReply(200, { status: "ok" });
    const results: Record<string, boolean> = {};
    await Promise.all(
      options.checks.map(async (check) => {
        try {
          results[check.name] = await check.check();
        } catch {
          results[check.name] = false;
        }
      }),
    );
    const draining = options.draining();
    const ready = !draining && Object.values(results).every(Boolean);
    return jsonReply(ready ? 200 : 503, {
      status: draining ? "draining" : ready ? "ready" : "not_ready",
      checks: results,
    });
  };
}
