import { describe, expect, it } from "vitest";
import type { Principal } from "../../../src/auth/principal.js";
import { DownstreamError } from "../../../src/downstream/errors.js";
import { DownstreamClient, type DownstreamServices } from "../../../src/downstream/fetch.js";
import { OboTokenProvider } from "../../../src/downstream/obo.js";
import { createLogger } from "../../../src/telemetry/logger.js";

const user: Principal = {
  id: "t:o",
  tenantId: "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa",
  objectId: "o",
  scopes: ["Downstream.Call"],
  roles: [],
  isAppOnly: false,
  claims: {},
};
const log = createLogger({ level: "silent", serviceName: "test" });

/** A provider whose client credential never becomes ready: token acquisition hangs until aborted. */
function hangingServices(timeoutMs = 30_000): DownstreamServices {
  return {
    apis: { api: { baseUrl: "https://api.contoso.com/", scopes: ["api://x/Read"], timeoutMs } },
    provider: new OboTokenProvider({
      clientId: "cccccccc-3333-4333-8333-cccccccccccc",
      instance: "https://login.microsoftonline.com/",
      credential: () => new Promise(() => undefined),
    }),
  };
}

async function failure(promise: Promise<unknown>): Promise<[string, string]> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DownstreamError))
    throw new Error(`expected a DownstreamError, got ${String(error)}`);
  return [error.code, error.message];
}

describe("DownstreamClient", () => {
  it("stops waiting for a token when the tool's signal aborts (the client cancelled)", async () => {
    const controller = new AbortController();
    const client = new DownstreamClient(hangingServices(), {
      principal: user,
      token: "inbound",
      signal: controller.signal,
      log,
      state: {},
    });
    const pending = failure(client.fetch("api", "/me"));
    controller.abort();
    expect(await pending).toStrictEqual([
      "ERR_DOWNSTREAM_CANCELLED",
      'The call to the downstream API "api" was cancelled.',
    ]);
  });

  it("counts token acquisition in the API's timeoutMs", async () => {
    const client = new DownstreamClient(hangingServices(100), {
      principal: user,
      token: "inbound",
      signal: new AbortController().signal,
      log,
      state: {},
    });
    expect(await failure(client.fetch("api", "/me"))).toStrictEqual([
      "ERR_DOWNSTREAM_TIMEOUT",
      'The downstream API "api" did not answer within 100 ms.',
    ]);
  });

  it("refuses before any token work: app-only callers, unknown APIs, no user token, no configuration", async () => {
    const signal = new AbortController().signal;
    const app = new DownstreamClient(hangingServices(), {
      principal: { ...user, isAppOnly: true },
      token: "inbound",
      signal,
      log,
      state: {},
    });
    expect((await failure(app.authorizationHeader(["api://x/Read"])))[0]).toBe("ERR_DOWNSTREAM_APP_ONLY");
    const client = new DownstreamClient(hangingServices(), {
      principal: user,
      token: undefined,
      signal,
      log,
      state: {},
    });
    expect(await failure(client.fetch("nope", "/me"))).toStrictEqual([
      "ERR_DOWNSTREAM_UNKNOWN_API",
      'No downstream API is named "nope": configure downstream.nope (baseUrl, scopes).',
    ]);
    expect(await failure(client.fetch("toString", "/me"))).toStrictEqual([
      "ERR_DOWNSTREAM_UNKNOWN_API",
      'No downstream API is named "toString": configure downstream.toString (baseUrl, scopes).',
    ]);
    expect((await failure(client.fetch("api", "/me")))[0]).toBe("ERR_DOWNSTREAM_NO_USER_TOKEN");
    const unconfigured = new DownstreamClient(
      {
        apis: {},
        provider:
          "This server cannot call downstream APIs on behalf of users: azureAd.clientCredentials is not configured.",
      },
      { principal: user, token: "inbound", signal, log, state: {} },
    );
    expect(await failure(unconfigured.authorizationHeader(["api://x/Read"]))).toStrictEqual([
      "ERR_DOWNSTREAM_CREDENTIAL",
      "This server cannot call downstream APIs on behalf of users: azureAd.clientCredentials is not configured.",
    ]);
  });
});
