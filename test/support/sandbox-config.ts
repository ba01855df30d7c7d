import { loadConfig } from '../../src/config.js';
import type { Config } from '../../src/config-types.js';

/**
 * The Config an in-process test gateway starts from: the sandbox tenant of the given emulator (its
 * DATA_DIR holds the CA and the demo app), an ephemeral loopback port and the memory cache; `env`
 * adds to or overrides any of it (NODE_ENV=production, CALLER_AUTH, a Redis CACHE_URL...).
 */
export function loadSandboxConfig(emulator: { dataDir: string }, env: Record<string, string> = {}): Config {
  return loadConfig({
    SANDBOX: 'true',
    HOST: '127.0.0.1',
    PORT: '0',
    CACHE_URL: 'memory',
    DATA_DIR: emulator.dataDir,
    ...env,
  });
}
