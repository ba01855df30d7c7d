import { pathToFileURL } from 'node:url';
import { loadConfigOrExit } from '../config.js';
import type { Config } from '../config-types.js';
import { graphIdentityId, keepsRefreshToken } from '../identity/identity-id.js';
import { createKeyvStore, defaultCachePersists, resetTokenRecords } from '../store/index.js';

/**
 * `npm run auth:reset`: deletes the stored tokens of the configured Graph identity (msal cache with
 * its refresh token, the broker refresh token, the key check), so the next start signs in afresh.
 * Works without TOKEN_CACHE_KEY or with a changed one: nothing is decrypted. Other identities
 * sharing the same Redis are left alone.
 */
export async function authReset(config: Config, out: (line: string) => void): Promise<number> {
  const identityId = graphIdentityId(config);
  const backend = await createKeyvStore(config.cache, { dataDir: config.dataDir, keepsRefreshToken: defaultCachePersists(config, keepsRefreshToken(config)) });
  try {
    const deleted = await resetTokenRecords(backend, identityId);
    out(`Cleared ${deleted} stored token record(s) of identity ${identityId} in ${backend.location}.`);
    if (config.selfDeployed?.flow === 'authorization-code') {
      out('Sign in again: open /auth/login on the gateway, or set a fresh AUTH_CODE (npm run auth:login-url prints the URL).');
    }
    if (backend.kind === 'memory') out('Note: the cache is in memory (CACHE_URL=memory), so a restart clears it anyway.');
    return deleted;
  } finally {
    await backend.close();
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, { purpose: 'tool' });
  if (config.sandbox.enabled) {
    process.stdout.write('Sandbox mode: the emulator tenant issues fresh tokens at every start; clearing the sandbox token cache.\n');
  }
  if (!config.selfDeployed && !config.hosted) {
    process.stderr.write('No Graph identity is configured (sandbox without credentials): there are no stored tokens to clear.\n');
    return;
  }
  await authReset(config, (line) => process.stdout.write(`${line}\n`));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`auth:reset failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
