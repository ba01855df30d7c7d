import path from 'node:path';
import { Secret, type Config } from '../config-types.js';
import type { EnvReader } from './env-reader.js';

/** Where state lives (data directory, token cache) and the key that encrypts cached tokens at rest. */
export function readStorage(
  env: EnvReader,
  context: { sandbox: boolean; flow: Config['sandbox']['flow']; deploymentMode: Config['deploymentMode'] },
): Pick<Config, 'dataDir' | 'cache' | 'tokenCacheKey'> {
  const dataDir = path.resolve(env.get('DATA_DIR') ?? '.data');
  const cacheUrl = env.get('CACHE_URL');
  let cache: Config['cache'] = { kind: 'default' };
  if (cacheUrl) {
    if (cacheUrl === 'memory' || cacheUrl === 'memory://') cache = { kind: 'memory' };
    else if (cacheUrl.startsWith('sqlite://')) cache = { kind: 'sqlite', path: path.resolve(cacheUrl.slice('sqlite://'.length)) };
    else if (/^rediss?:\/\//.test(cacheUrl)) cache = { kind: 'redis', url: cacheUrl };
    else
      env.problem(
        // The value is echoed without its userinfo: a mistyped scheme still carries the password.
        `CACHE_URL=${JSON.stringify(cacheUrl.replace(/\/\/[^/@]*@/, '//[redacted]@'))} is not valid: where tokens are cached; memory, sqlite://path or redis://[:password@]host:port (e.g. CACHE_URL=redis://127.0.0.1:6379)`,
      );
  }
  const tokenCacheKeyRaw = env.get('TOKEN_CACHE_KEY');
  if (tokenCacheKeyRaw !== undefined && tokenCacheKeyRaw.length < 16)
    env.problem(
      'TOKEN_CACHE_KEY is too short: it encrypts cached tokens at rest; at least 16 characters, ideally 32 random bytes in base64 (e.g. TOKEN_CACHE_KEY=$(openssl rand -base64 32))',
    );
  if (
    !context.sandbox &&
    cache.kind !== 'memory' &&
    !tokenCacheKeyRaw &&
    (context.flow === 'authorization-code' || context.deploymentMode === 'hosted' || cache.kind === 'redis')
  )
    env.problem('TOKEN_CACHE_KEY is missing: refresh tokens are persisted and must be encrypted at rest (e.g. TOKEN_CACHE_KEY=$(openssl rand -base64 32))');
  return { dataDir, cache, ...(tokenCacheKeyRaw ? { tokenCacheKey: new Secret(tokenCacheKeyRaw) } : {}) };
}

/** CURSOR_KEY: signs paging cursors so they survive restarts and work across replicas. */
export function readCursorKey(env: EnvReader): Pick<Config, 'cursorKey'> {
  const cursorKeyRaw = env.get('CURSOR_KEY');
  if (cursorKeyRaw !== undefined && Buffer.from(cursorKeyRaw, 'base64').length < 32)
    env.problem(
      'CURSOR_KEY is too short: it signs paging cursors so they survive restarts and work across replicas; base64 of at least 32 random bytes (e.g. CURSOR_KEY=$(openssl rand -base64 32))',
    );
  return cursorKeyRaw && Buffer.from(cursorKeyRaw, 'base64').length >= 32 ? { cursorKey: new Secret(cursorKeyRaw) } : {};
}
