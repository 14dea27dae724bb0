/**
 * `paved-mcp/dev`: development-only building blocks. Everything here refuses to run when
 * `NODE_ENV=production`, and `paved start` refuses hosts configured for the development provider.
 */
export { refuseInProduction } from "./refuse-in-production.js";
export {
  createDevIdentityProvider,
  type DevIdentityProvider,
  type DevAzureAdConfig,
} from "./identity-provider.js";
export { DEV_CLIENT_ID, DEV_TENANT_ID, type DevIdentityProviderOptions } from "./options.js";
export type { MintTokenOptions } from "./mint.js";
export type { DevUser } from "./users.js";
