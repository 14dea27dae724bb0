import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { PavedError } from "../errors.js";
import { createMinter, type MintTokenOptions } from "./mint.js";
import { refuseInProduction } from "./refuse-in-production.js";
import { openDevState, STATE_FILES, type ProviderRecord } from "./state.js";
import { createSigner } from "./tokens.js";
import { DEFAULT_DEV_USERS } from "./users.js";

/** Mints for the provider that last ran with this state directory, without it running. */
export interface OfflineMinter {
  readonly provider: ProviderRecord;
  mintToken(options?: MintTokenOptions): Promise<string>;
}

/**
 * `paved token` mints from the persisted key and the provider's last port, so its tokens verify
 * against a provider that is running now (or is started again on the same port).
 */
export async function createOfflineMinter(stateDir = ".paved", cwd = process.cwd()): Promise<OfflineMinter> {
  refuseInProduction("paved token");
  const dir = resolve(cwd, stateDir);
  // Checked before opening: minting must not create an empty state directory as a side effect.
  if (!existsSync(join(dir, STATE_FILES.provider))) {
    throw new PavedError(
      "ERR_CONFIG_FILE",
      `No development identity provider has run with its state in ${dir}: start "paved dev" (or createDevIdentityProvider) first`,
    );
  }
  const store = await openDevState(dir);
  const provider = await store.provider();
  if (provider === undefined)
    throw new PavedError(
      "ERR_CONFIG_FILE",
      `The development identity provider state in ${dir} is incomplete: start "paved dev" again`,
    );
  const signer = await createSigner(await store.signingKey());
  const client = await store.confidentialClient();
  const mintToken = createMinter({
    signer,
    baseUrl: `http://127.0.0.1:${provider.port}`,
    app: {
      clientId: provider.clientId,
      applicationIdUri: provider.applicationIdUri,
      scopes: provider.scopes,
      roles: provider.roles,
    },
    tenantId: provider.tenantId,
    accessTokenVersion: provider.accessTokenVersion,
    defaultClientId: client.clientId,
    users: DEFAULT_DEV_USERS,
  });
  return { provider, mintToken };
}
