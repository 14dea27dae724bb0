import type { PavedConfig } from "../config/schema.js";
import { plannedCredential } from "./credentials.js";

/** A `paved doctor` finding about downstream calls (same shape as the CLI's). */
export interface DownstreamFinding {
  readonly severity: "error" | "warning";
  readonly id: string;
  readonly message: string;
}

/** The secret source that would be used for on-behalf-of calls, if a client secret is it. */
export function clientSecretInUse(
  config: PavedConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  const list = config.azureAd?.clientCredentials ?? [];
  return plannedCredential(list, env)?.sourceType === "ClientSecret";
}

/** Downstream configuration traps, found from the configuration alone. */
export function diagnoseDownstream(
  config: PavedConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
): DownstreamFinding[] {
  const findings: DownstreamFinding[] = [];
  const apis = Object.keys(config.downstream);
  const list = config.azureAd?.clientCredentials ?? [];
  if (apis.length > 0 && config.azureAd === undefined) {
    findings.push({
      severity: "error",
      id: "downstream-without-entra",
      message: `downstream (${apis.join(", ")}) is configured but on-behalf-of needs Entra ID: configure azureAd.`,
    });
  } else if (apis.length > 0 && list.length === 0) {
    findings.push({
      severity: "error",
      id: "downstream-without-credentials",
      message: `downstream (${apis.join(", ")}) is configured but azureAd.clientCredentials is not: add a managed identity, workload identity, Key Vault or certificate source.`,
    });
  }
  const secret = list.findIndex((entry) => entry.sourceType === "ClientSecret");
  if (secret !== -1) {
    findings.push({
      severity: "warning",
      id: "client-secret",
      message: clientSecretInUse(config, env)
        ? `azureAd.clientCredentials[${secret}] is a ClientSecret and the source in use: secrets are for development only; use a managed identity, workload identity or a certificate.`
        : `azureAd.clientCredentials[${secret}] is a ClientSecret (a fallback): secrets are for development only; remove it in production.`,
    });
  }
  return findings;
}
