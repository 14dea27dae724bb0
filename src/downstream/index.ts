import type { PavedConfig } from "../config/schema.js";
import type { Logger } from "../telemetry/logger.js";
import { firstUsableCredential, type CredentialOptions, type MsalCredential } from "./credentials.js";
import type { DownstreamServices } from "./fetch.js";
import { OboTokenProvider } from "./obo.js";

export { DownstreamClient, type Downstream, type DownstreamCall, type DownstreamServices } from "./fetch.js";
export { ClaimsChallengeError, DownstreamError, type DownstreamErrorCode } from "./errors.js";

/**
 * The host's downstream services, made once when the host is built. Nothing here does I/O: the
 * client credential is resolved (token file, Key Vault, package import) on the first call, and
 * retried on the next when it fails.
 */
export function createDownstreamServices(
  config: PavedConfig,
  options: Partial<CredentialOptions> & { readonly logger?: Logger } = {},
): DownstreamServices {
  const apis = config.downstream;
  const azureAd = config.azureAd;
  if (azureAd === undefined) {
    return {
      apis,
      provider:
        "This server cannot call downstream APIs on behalf of users: on-behalf-of needs Microsoft Entra ID (azureAd).",
    };
  }
  const list = azureAd.clientCredentials ?? [];
  if (list.length === 0) {
    return {
      apis,
      provider:
        "This server cannot call downstream APIs on behalf of users: azureAd.clientCredentials is not configured.",
    };
  }
  let resolving: Promise<MsalCredential> | undefined;
  const credential = (): Promise<MsalCredential> => {
    const { logger } = options;
    resolving ??= firstUsableCredential(list, {
      instance: azureAd.instance,
      onSkipped: (reason) => logger?.warn({ reason }, "client credential source skipped"),
      ...options,
    }).then(
      (ready) => {
        logger?.info({ source: ready.source }, "downstream client credential ready");
        if (ready.kind === "secret")
          logger?.warn(
            { source: ready.source },
            "a client secret is in use for downstream calls: development only",
          );
        return ready;
      },
      (error: unknown) => {
        resolving = undefined;
        logger?.warn(
          { reason: (error as Error).message },
          "no usable client credential for downstream calls",
        );
        throw error;
      },
    );
    return resolving;
  };
  return {
    apis,
    provider: new OboTokenProvider({ clientId: azureAd.clientId, instance: azureAd.instance, credential }),
  };
}
