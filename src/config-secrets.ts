import type { Config } from './config-types.js';

/**
 * The secret values a Config holds, revealed, for the text scrubbers (`scrubSecrets`) that clean
 * messages the gateway did not write itself (Entra's, the broker's, an unexpected error's) before
 * they reach a log line or a caller.
 */
export function configSecrets(config: Config): string[] {
  const out: string[] = [];
  if (config.selfDeployed?.credential.kind === 'secret') out.push(config.selfDeployed.credential.secret.reveal());
  if (config.selfDeployed?.authCode) out.push(config.selfDeployed.authCode.reveal());
  if (config.hosted) out.push(config.hosted.token.reveal(), config.hosted.key.reveal());
  for (const key of [config.tokenCacheKey, config.tokenCacheKeyPrevious, config.cursorKey, config.cursorKeyPrevious]) if (key) out.push(key.reveal());
  return out;
}
