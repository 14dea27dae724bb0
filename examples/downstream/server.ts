import { createMcpHost, defineTool, loadConfig } from "paved-mcp";
import { startProfileApi } from "./profile-api.js";

/**
 * A tool that calls a protected downstream API as the signed-in user (on-behalf-of). The API runs
 * in this process on loopback (PROFILE_API_PORT, default 7071) so the example is self-contained;
 * `PROFILE_API_SCOPE` is the scope your downstream app registration exposes. README.md explains
 * the Entra set-up.
 */
const api = await startProfileApi(Number(process.env["PROFILE_API_PORT"] ?? 7071));

const getProfile = defineTool({
  name: "get_profile",
  title: "My profile",
  description: "The signed-in user's profile, from the profile service (called on their behalf).",
  annotations: { readOnlyHint: true },
  handler: async (_args, ctx) => {
    const response = await ctx.downstream.fetch("profile", "/me");
    return (await response.json()) as Record<string, unknown>;
  },
});

const config = await loadConfig({
  overrides: {
    downstream: {
      profile: {
        baseUrl: api.url,
        scopes: [process.env["PROFILE_API_SCOPE"] ?? "api://profile-api/Profile.Read"],
      },
    },
  },
});

export default createMcpHost({
  config,
  server: { name: "downstream-example", title: "Profile (on behalf of the user)", version: "1.0.0" },
  instructions: "Call get_profile to see the signed-in user's profile from the profile service.",
  tools: [getProfile],
});
