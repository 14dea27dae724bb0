import { isAbsolute } from "node:path";
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";

export type { Logger } from "pino";

/**
 * Paths pino blanks out wherever they appear in a log object. Paved never puts a token in a log
 * call; this is the second line of defence for what users and libraries log.
 */
export const REDACTED_PATHS: readonly string[] = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "cookie",
  "*.cookie",
  "headers.cookie",
  "*.headers.cookie",
  "set-cookie",
  "*.set-cookie",
  "headers.set-cookie",
  "*.headers.set-cookie",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "access_token",
  "*.access_token",
  "refresh_token",
  "*.refresh_token",
  "id_token",
  "*.id_token",
  "assertion",
  "*.assertion",
  "client_assertion",
  "*.client_assertion",
  "clientAssertion",
  "*.clientAssertion",
  "clientSecret",
  "*.clientSecret",
  "client_secret",
  "*.client_secret",
  "proxy-authorization",
  "*.proxy-authorization",
  "headers.proxy-authorization",
  "*.headers.proxy-authorization",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "apiKey",
  "*.apiKey",
  "api_key",
  "*.api_key",
  "privateKey",
  "*.privateKey",
  "private_key",
  "*.private_key",
];

/**
 * The audit stream's redaction: the same names, top level only. Audit events are flat objects of
 * known fields, and wildcard paths cost a walk of every line (a tenth of a tool call's CPU).
 */
const AUDIT_REDACTED_PATHS: readonly string[] = REDACTED_PATHS.filter((path) => !/[.*]/.test(path));

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  readonly serviceName: string;
  /** Where lines go; default standard output. */
  readonly destination?: DestinationStream;
}

/** pino's `isoTime`, formatted once per millisecond: under load several lines share one. */
let stampedAt = -1;
let stamp = "";
function isoTime(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

function pinoOptions(level: LevelWithSilent, base: Record<string, string>, paths = REDACTED_PATHS) {
  return {
    level,
    base,
    redact: { paths: [...paths], censor: "[redacted]" },
    timestamp: isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
}

/** JSON lines, one object per event, secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(pinoOptions(options.level, { service: options.serviceName }), options.destination);
}

/**
 * The audit stream: its own logger whose every line carries `stream: "audit"`, always at `info`
 * whatever `telemetry.logLevel` says, with the same redaction. `log` makes it a child of the
 * application logger (same destination); `stdout`, `stderr` or a file path give it its own
 * destination. `undefined` for `off`.
 */
export function createAuditLogger(
  /** `telemetry.auditLog`: `log`, `stdout`, `stderr`, `off`, or an absolute file path. */
  destination: string,
  options: { readonly log: Logger; readonly serviceName: string },
): Logger | undefined {
  switch (destination) {
    case "off":
      return undefined;
    case "log":
      return options.log.child(
        { stream: "audit" },
        { level: "info", redact: { paths: [...AUDIT_REDACTED_PATHS], censor: "[redacted]" } },
      );
    default: {
      if (destination !== "stdout" && destination !== "stderr" && !isAbsolute(destination))
        throw new TypeError(`telemetry.auditLog must be log, stdout, stderr, off or an absolute path`);
      const dest = destination === "stdout" ? 1 : destination === "stderr" ? 2 : destination;
      return pino(
        pinoOptions("info", { service: options.serviceName, stream: "audit" }, AUDIT_REDACTED_PATHS),
        pino.destination({ dest, sync: false, mkdir: true }),
      );
    }
  }
}
