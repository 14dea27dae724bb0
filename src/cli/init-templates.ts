/**
 * The files `paved init` writes, as string constants (so `tsc` alone builds the CLI). Each
 * template is a function of the few values that vary; versions come from Paved's own package.json,
 * so a scaffold always asks for what this Paved was built and tested with.
 */

export interface TemplateValues {
  /** npm package name and MCP server name, e.g. `my-server`. */
  readonly name: string;
  /** The dependency spec for paved-mcp: `^0.1.0`, or a tarball path. */
  readonly pavedSpec: string;
  /** Version ranges of the packages the scaffold depends on. */
  readonly versions: {
    readonly zod: string;
    readonly typescript: string;
    readonly vitest: string;
    readonly typesNode: string;
    readonly mcpClient: string;
  };
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

export const packageJson = (v: TemplateValues): string =>
  json({
    name: v.name,
    version: "0.1.0",
    private: true,
    type: "module",
    engines: { node: ">=20.19" },
    scripts: {
      build: "tsc -p tsconfig.build.json",
      start: "npm run build --silent && paved dev",
      test: "tsc -p tsconfig.json && vitest run",
      token: "paved token",
      doctor: "paved doctor",
      "start:production": "paved start",
    },
    dependencies: { "paved-mcp": v.pavedSpec, zod: v.versions.zod },
    devDependencies: {
      "@modelcontextprotocol/client": v.versions.mcpClient,
      "@types/node": v.versions.typesNode,
      typescript: v.versions.typescript,
      vitest: v.versions.vitest,
    },
  });

export const tsconfigJson = (): string =>
  json({
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2023"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      types: ["node"],
      strict: true,
      noUncheckedIndexedAccess: true,
      verbatimModuleSyntax: true,
      isolatedModules: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ["src", "test"],
  });

export const tsconfigBuildJson = (): string =>
  json({
    extends: "./tsconfig.json",
    compilerOptions: { noEmit: false, rootDir: "src", outDir: "dist", sourceMap: true },
    include: ["src"],
  });

export const serverTs = (
  v: TemplateValues,
): string => `import { createMcpHost, loadConfig, toolsFrom } from "paved-mcp";

/**
 * The server. \`npm start\` serves it with \`paved dev\`: on loopback, with the development identity
 * provider. \`paved start\` serves it in production, configured by paved.config.json and PAVED_…
 * variables (see README.md).
 */
export default createMcpHost({
  config: await loadConfig(),
  server: { name: ${JSON.stringify(v.name)}, version: "0.1.0" },
  instructions: "Greets people. Call hello with a name.",
  // Every module in ./tools that exports defineTool(...) results.
  tools: await toolsFrom(new URL("./tools/", import.meta.url)),
});
`;

export const helloTs = (): string => `import { defineTool } from "paved-mcp";
import { z } from "zod";

/** An example tool: the caller's token needs the Hello.Read scope, or the Hello.Reader app role. */
export const hello = defineTool({
  name: "hello",
  description: "Greets someone by name",
  input: { name: z.string().min(1).max(100).describe("Who to greet") },
  scopes: ["Hello.Read"],
  roles: ["Hello.Reader"],
  annotations: { readOnlyHint: true },
  handler: ({ name }, ctx) => \`Hello, \${name}! (asked by \${ctx.user.name ?? ctx.user.id})\`,
});
`;

export const helloTestTs =
  (): string => `import { connectClient, createTestHost, expectDenied, expectToolResult } from "paved-mcp/testing";
import { afterAll, describe, it } from "vitest";
import { hello } from "../src/tools/hello.js";

// A real host with the real token validation, trusting an in-memory key: no network, no sign-in.
const host = createTestHost({ tools: [hello] });
afterAll(() => host.close());

describe("hello", () => {
  it("greets a user who holds Hello.Read", async () => {
    const token = await host.mintToken({ user: "alice", scopes: ["Hello.Read"] });
    const client = await connectClient(host, { token });
    const result = await client.callTool({ name: "hello", arguments: { name: "Ada" } });
    expectToolResult(result, "Hello, Ada! (asked by Alice Developer)");
    await client.close();
  });

  it("refuses a user without Hello.Read, naming the scope to ask for", async () => {
    const token = await host.mintToken({ user: "bob", scopes: ["Other.Read"] });
    const client = await connectClient(host, { token });
    await expectDenied(client.callTool({ name: "hello", arguments: { name: "Ada" } }), {
      status: 403,
      scopes: ["Hello.Read"],
    });
    await client.close();
  });

  it("serves an application holding the Hello.Reader role", async () => {
    const token = await host.mintToken({ appOnly: true, roles: ["Hello.Reader"] });
    const client = await connectClient(host, { token });
    expectToolResult(await client.callTool({ name: "hello", arguments: { name: "Ada" } }), /^Hello, Ada!/);
    await client.close();
  });
});
`;

export const pavedConfigJson = (): string =>
  json({
    server: { path: "/mcp" },
    telemetry: { logLevel: "info" },
  });

export const gitignore = (): string => `node_modules/
dist/
.paved/
`;

export const readme = (v: TemplateValues): string => `# ${v.name}

A remote MCP server built on [Paved](https://www.npmjs.com/package/paved-mcp): Entra ID sign-in,
per-tool scopes and a hardened HTTP edge, on the official MCP SDK.

## The two commands

\`\`\`bash
npm install && npm start   # builds and serves http://127.0.0.1:8080/mcp with a development identity provider
npm test                   # type-checks, then runs the tests in test/ (no network needed)
\`\`\`

\`npm start\` prints the endpoint, a bearer token for the test user alice, and ready configuration
for MCP Inspector, VS Code and Claude Code, which sign in against the development identity
provider on their own. \`PORT\` changes the port. \`npm run token -- --user bob --scopes Hello.Read\`
mints another token while it runs.

## Where things are

| file | what it is |
| --- | --- |
| \`src/server.ts\` | the host: configuration, server name, where the tools are |
| \`src/tools/*.ts\` | one tool per module (\`defineTool\`, zod input, \`scopes\` / \`roles\`) |
| \`test/*.test.ts\` | tests with \`paved-mcp/testing\`: a real host, in-memory tokens, the official client |
| \`paved.config.json\` | configuration shared by every environment; secrets and per-environment values go in \`PAVED_…\` variables |

Add a tool: copy \`src/tools/hello.ts\`, change its name, input, scopes and handler, and add a test.

## Production

Register an app in Microsoft Entra ID (one per server and environment), then set:

\`\`\`bash
PAVED_AZUREAD__TENANTID=<directory (tenant) id>
PAVED_AZUREAD__CLIENTID=<application (client) id>
PAVED_AZUREAD__APPLICATIONIDURI=https://mcp.example.com/mcp
PAVED_SERVER__RESOURCEHOST=https://mcp.example.com
\`\`\`

\`npm run doctor\` checks the configuration for the usual Entra traps; \`npm run build && npm run
start:production\` serves it (\`paved start\` refuses to serve without authentication or an https
\`resourceHost\`).
`;
