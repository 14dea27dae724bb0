/**
 * `paved-mcp/testing`: test your tools with no network, no identity provider and no disk. A test
 * host runs the whole pipeline and the real Entra validation rules against an in-memory signing
 * key; the official MCP client talks to it in-process. Needs `@modelcontextprotocol/client`
 * (an optional peer dependency). See docs/testing.md.
 */
export { connectClient, endpointOf, type ConnectOptions } from "./connect.js";
export { createTestHost, type TestHost, type TestHostOptions, type TestAzureAd } from "./test-host.js";
export {
  mintToken,
  DEFAULT_TEST_IDENTITY,
  TEST_CLIENT_APP_ID,
  TEST_CLIENT_ID,
  TEST_TENANT_ID,
  type TestIdentity,
  type TestTokenOptions,
} from "./mint-token.js";
export { TEST_AUTHORITY } from "./test-authority.js";
export {
  expectDenied,
  expectToolResult,
  type Denial,
  type DenialExpectation,
  type ToolResultExpectation,
} from "./assertions.js";
