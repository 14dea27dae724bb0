import { loadConfig } from "../config/load.js";
import type { PavedConfig } from "../config/schema.js";
import { diagnoseDownstream } from "../downstream/diagnose.js";
import { isLoopbackHostname } from "../http/loopback.js";

export type Severity = "error" | "warning";

export interface Finding {
  readonly severity: Severity;
  /** Stable identifier, for scripts and documentation. */
  readonly id: string;
  readonly message: string;
}

const isLoopbackUrl = (value: string): boolean => isLoopbackHostname(new URL(value).hostname);

/** The Application ID URI scopes hang off: configured, else Entra's default `api://<clientId>`. */
function applicationIdUriOf(config: PavedConfig): string | undefined {
  if (config.azureAd === undefined) return undefined;
  return config.azureAd.applicationIdUri ?? `api://${config.azureAd.clientId}`;
}

/** A scope Entra can resolve to this API: `<resource>/<name>`; a bare name means Microsoft Graph. */
const isQualified = (scope: string): boolean => scope.includes("/");

/**
 * The production traps of Entra-backed MCP servers, found from the configuration alone before a
 * client hits them. Errors make `paved doctor` exit non-zero.
 */
export function diagnose(config: PavedConfig): Finding[] {
  const findings: Finding[] = [];
  const add = (severity: Severity, id: string, message: string): void => {
    findings.push({ severity, id, message });
  };
  const { server, azureAd, oidc } = config;

  if (azureAd === undefined && oidc === undefined) {
    add("error", "no-identity", "No identity provider is configured: set azureAd (Entra ID) or oidc.");
  }
  if (server.resourceHost === undefined) {
    add(
      "error",
      "resource-host-missing",
      "server.resourceHost is not set: it is the audience of tokens and the base of the MCP URL clients use.",
    );
  } else if (!server.resourceHost.startsWith("https://")) {
    add(
      "error",
      "resource-host-not-https",
      `server.resourceHost is ${server.resourceHost}: production clients and Entra require https.`,
    );
  }

  if (azureAd !== undefined) {
    const appIdUri = applicationIdUriOf(config) ?? "";
    if (isLoopbackUrl(azureAd.instance)) {
      add(
        "error",
        "dev-identity-provider",
        `azureAd.instance ${azureAd.instance} is the development identity provider: never use it in production.`,
      );
    }
    if (server.resourceHost !== undefined) {
      const mcpUrl = `${server.resourceHost}${server.path}`;
      if (appIdUri !== mcpUrl) {
        add(
          "warning",
          "resource-not-application-id-uri",
          `The MCP URL ${mcpUrl} is not the Application ID URI (${appIdUri}). MCP clients send it as the RFC 8707 resource and Entra rejects a resource that is not the app's Application ID URI (AADSTS9010010): register ${mcpUrl} as the Application ID URI and set azureAd.applicationIdUri to it.`,
        );
      }
    }
    const scopes = server.supportedScopes ?? [];
    const bare = scopes.filter((scope) => !isQualified(scope));
    if (bare.length > 0) {
      add(
        "error",
        "bare-scope",
        `server.supportedScopes has bare names (${bare.join(", ")}): Entra reads a scope without a resource as Microsoft Graph. Use ${appIdUri}/<name>.`,
      );
    }
    const byResource = new Map<string, string[]>();
    for (const scope of scopes.filter(isQualified)) {
      const resource = scope.slice(0, scope.lastIndexOf("/"));
      byResource.set(resource, [
        ...(byResource.get(resource) ?? []),
        scope.slice(scope.lastIndexOf("/") + 1),
      ]);
    }
    for (const [resource, names] of byResource) {
      if (names.includes(".default") && names.length > 1) {
        add(
          "error",
          "default-mixed",
          `server.supportedScopes mixes ${resource}/.default with explicit scopes: Entra refuses static and dynamic consent in one request.`,
        );
      }
    }
    if (azureAd.tokenVersions.includes(1)) {
      add(
        "warning",
        "v1-tokens",
        "azureAd.tokenVersions accepts v1 tokens: keep it only while the app manifest's accessTokenAcceptedVersion is null or 1; set it to 2 and accept [2].",
      );
    }
    if (
      (azureAd.tenantId === "common" || azureAd.tenantId === "organizations") &&
      azureAd.allowedTenants === undefined
    ) {
      add(
        "warning",
        "multi-tenant-unrestricted",
        `azureAd.tenantId is ${azureAd.tenantId} with no azureAd.allowedTenants: any tenant whose admin consents can call this server.`,
      );
    }
  }

  findings.push(...diagnoseDownstream(config));

  if (oidc !== undefined && isLoopbackUrl(oidc.issuer)) {
    add(
      "error",
      "loopback-issuer",
      `oidc.issuer ${oidc.issuer} is a loopback address: only for development.`,
    );
  }
  return findings;
}

/** The report `paved doctor` prints, one finding a line, errors first. */
export function formatFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return "paved doctor: no problems found.";
  const sorted = [...findings].sort((a, b) =>
    a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1,
  );
  const errors = findings.filter((finding) => finding.severity === "error").length;
  const lines = sorted.map(
    (finding) => `${finding.severity.toUpperCase().padEnd(7)} ${finding.id}: ${finding.message}`,
  );
  return [...lines, "", `paved doctor: ${errors} error(s), ${findings.length - errors} warning(s).`].join(
    "\n",
  );
}

/**
 * `paved doctor [config-file]`: loads the configuration as `paved start` would (the file, then
 * `PAVED_…` variables) and reports the traps. Exit code 1 when any finding is an error.
 */
export async function doctor(file: string | undefined, out: { log(line: string): void }): Promise<number> {
  const config = await loadConfig(file === undefined ? {} : { file });
  const findings = diagnose(config);
  out.log(formatFindings(findings));
  return findings.some((finding) => finding.severity === "error") ? 1 : 0;
}
