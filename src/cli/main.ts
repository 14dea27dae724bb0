#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { PavedError } from "../errors.js";
import { dev, start } from "./commands.js";
import { parseDevArguments } from "./dev-arguments.js";
import { doctor } from "./doctor.js";
import { init } from "./init.js";
import { token } from "./token.js";

const USAGE = `Usage: paved <command> [entry]

Commands:
  init [dir]      Scaffold a new server project (paved init --help)
  dev [entry]     Serve on loopback for local development, and print how to connect a client
                  (--print-config vscode|claude|inspector also writes that client's configuration)
  start [entry]   Serve for production (refuses hosts without authentication or an https resourceHost)
  token [options] Mint a development access token (paved token --help)
  doctor [file]   Check the configuration (file, then PAVED_ variables) for production traps
  help            Show this text
  version         Print the version

The entry is a JavaScript module whose default export is a host made by createMcpHost
(default: dist/server.js). PORT and HOST set the listen address (default 8080; 127.0.0.1 for dev,
0.0.0.0 for start). paved dev also starts the development identity provider (PAVED_DEV_IDP_PORT
sets its port, default any free one) and points the entry's azureAd configuration at it.`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, entry, ...rest] = argv;
  const out = { log: (line: string) => process.stdout.write(`${line}\n`) };
  if (command === "token") return token(argv.slice(1), out);
  if (command === "init") return init(argv.slice(1), out);
  if (command === "dev") {
    const parsed = parseDevArguments(argv.slice(1));
    if (typeof parsed === "string") {
      process.stderr.write(`paved dev: ${parsed}\n\n${USAGE}\n`);
      return 2;
    }
    await dev(parsed.entry, out, parsed);
    return -1;
  }
  if (rest.length > 0) {
    process.stderr.write(`paved: unexpected arguments: ${rest.join(" ")}\n\n${USAGE}\n`);
    return 2;
  }
  switch (command) {
    case "start":
      await start(entry, out);
      return -1;
    case "doctor":
      return doctor(entry, out);
    case "version":
    case "--version":
      out.log(version());
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      out.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`paved: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof PavedError ? `${error.message} [${error.code}]` : String(error);
    process.stderr.write(`paved: ${message}\n`);
    process.exitCode = 1;
  },
);
