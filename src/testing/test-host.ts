import type { Implementation } from "@modelcontextprotocol/server";
import { createEntraValidator } from "../auth/entra.js";
import { parseConfig } from "../config/load.js";
import type { PavedConfigInput } from "../config/schema.js";
import { refuseInProduction } from "../dev/refuse-in-production.js";
import { createMcpHost } from "../host.js";
import { HOST_INTERNALS, internalsOf } from "../host-internals.js";
import type { McpHost, McpHostOptions } from "../host-options.js";
import { createLogger } from "../telemetry/logger.js";
import {
  createTestMinter,
  DEFAULT_TEST_IDENTITY,
  TEST_CLIENT_ID,
  TEST_TENANT_ID,
  type TestIdentity,
  type TestTokenOptions,
} from "./mint-token.js";
import { authorityFetch, TEST_AUTHORITY } from "./test-authority.js";

type AzureAdInput = NonNullable<PavedConfigInput["azureAd"]>;

/** The Entra settings a test host validates with; the authority is always the in-process one. */
export type TestAzureAd = Partial<Omit<AzureAdInput, "instance">>;

/** Options of {@link createTestHost}: those of `createMcpHost`, identity excepted, all optional. */
export interface TestHostOptions extends Omit<
  McpHostOptions,
  "server" | "config" | "tokenValidator" | "authorizationServers" | "insecureNoAuth"
> {
  /** Default: `{ name: "test", version: "0.0.0" }`. */
  readonly server?: Implementation;
  /** Configuration as in code, without `azureAd` / `oidc` (see `azureAd` below). Logs are off unless `telemetry.logLevel` says otherwise. */
  readonly config?: Omit<PavedConfigInput, "azureAd" | "oidc">;
  /**
   * The app registration the host stands for: `tenantId` (a GUID, or `organizations` to accept any
   * tenant), `clientId`, `applicationIdUri`, `tokenVersions`, `allowedTenants`, `allowedClientApps`.
   * Defaults: the test tenant and app, v2 tokens.
   */
  readonly azureAd?: TestAzureAd;
}

/** A host for tests, with the minting side of the identity it trusts. */
export interface TestHost extends McpHost {
  /**
   * Mints a token this host accepts. Defaults: user alice, every scope the host's tools, prompts
   * and resources declare (app-only: every role), the host's tenant.
   */
  mintToken(options?: TestTokenOptions): Promise<string>;
  /** The app registration the host's tokens are for. */
  readonly identity: TestIdentity;
}

/**
 * A real host (the whole pipeline, the real Entra validation rules) that trusts an in-memory
 * signing key: its discovery documents and key set are served in-process, so nothing touches the
 * network or the disk. Pair it with `connectClient(host, { token: await host.mintToken() })`.
 * Refuses to run with `NODE_ENV=production`.
 *
 * @example
 * const host = createTestHost({ tools: [getWeather] });
 * const client = await connectClient(host, { token: await host.mintToken({ scopes: ["Weather.Read"] }) });
 * expectToolResult(await client.callTool({ name: "get_weather", arguments: { city: "Oslo" } }), /Oslo/);
 * await client.close();
 * await host.close();
 */
export function createTestHost(options: TestHostOptions = {}): TestHost {
  refuseInProduction("createTestHost");
  const { azureAd: given = {}, config = {}, server, ...rest } = options;
  if ("azureAd" in config || "oidc" in config) {
    throw new TypeError("createTestHost: set the test identity with the `azureAd` option, not in `config`");
  }
  const azureAd = parseConfig({
    azureAd: {
      tenantId: TEST_TENANT_ID,
      clientId: TEST_CLIENT_ID,
      ...given,
      instance: `${TEST_AUTHORITY}/`,
    },
  }).azureAd;
  if (azureAd === undefined) throw new TypeError("createTestHost: no azureAd settings");
  const validator = createEntraValidator(azureAd, { fetch: authorityFetch });
  const applicationIdUri = validator.applicationIdUri;
  const host = createMcpHost({
    ...rest,
    server: server ?? { name: "test", version: "0.0.0" },
    config: {
      ...config,
      // `.default` is the baseline Entra uses: challenges then name scopes fully qualified.
      server: { supportedScopes: [`${applicationIdUri}/.default`], ...config.server },
    },
    tokenValidator: validator,
    authorizationServers: [validator.authorizationServer],
    logger:
      rest.logger ??
      createLogger({ level: config.telemetry?.logLevel ?? "silent", serviceName: server?.name ?? "test" }),
  });
  const tenantId = /^[0-9a-f-]{36}$/i.test(azureAd.tenantId)
    ? azureAd.tenantId.toLowerCase()
    : TEST_TENANT_ID;
  const identity: TestIdentity = Object.freeze({
    issuer: `${TEST_AUTHORITY}/${tenantId}/v2.0`,
    tenantId,
    clientId: azureAd.clientId.toLowerCase(),
    applicationIdUri,
    defaultScopes: host.info.scopes.length > 0 ? host.info.scopes : DEFAULT_TEST_IDENTITY.defaultScopes,
    defaultRoles: host.info.roles.length > 0 ? host.info.roles : DEFAULT_TEST_IDENTITY.defaultRoles,
    accessTokenVersion: azureAd.tokenVersions.includes(2) ? 2 : 1,
  });
  let closing: Promise<void> | undefined;
  return Object.freeze({
    fetch: (request: Request, fetchOptions?: { remoteAddress?: string }) => host.fetch(request, fetchOptions),
    close() {
      closing ??= host.close().finally(() => validator.close());
      return closing;
    },
    info: host.info,
    identity,
    mintToken: createTestMinter(identity),
    // `serve(host)` from paved-mcp/node works on a test host too.
    [HOST_INTERNALS]: internalsOf(host),
  });
}
