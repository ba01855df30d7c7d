import { hashApiKey } from '../../src/config.js';
import type { Permission } from '../../src/permissions.js';

/**
 * The environment of a gateway whose callers present API keys: `CALLER_AUTH=api-key` and the
 * `API_KEYS` an operator writes for them, each caller's name, the SHA-256 of its key and its
 * permissions (docs/identity.md#api-keys). Tests keep the raw keys to send them.
 */
export function apiKeyCallers(callers: Record<string, { key: string; permissions: readonly Permission[] }>): { CALLER_AUTH: string; API_KEYS: string } {
  const entries = Object.entries(callers).map(([name, { key, permissions }]) => `${name}:${hashApiKey(key)}:${permissions.join('+')}`);
  return { CALLER_AUTH: 'api-key', API_KEYS: entries.join(',') };
}
