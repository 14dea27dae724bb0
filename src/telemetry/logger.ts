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
  "password",
  "*.password",
  "secret",
  "*.secret",
];

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  readonly serviceName: string;
  /** Where lines go; default standard output. */
  readonly destination?: DestinationStream;
}

/** JSON lines, one object per event, secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.serviceName },
      redact: { paths: [...REDACTED_PATHS], censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
