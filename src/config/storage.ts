import path from 'node:path';
import { Secret, type Config } from '../config-types.js';
import { withoutUserinfo, type EnvReader } from './env-reader.js';

/** Where state lives (data directory, token cache) and the key that encrypts cached tokens at rest. */
export function readStorage(
  env: EnvReader,
  context: { sandbox: boolean; flow: Config['sandbox']['flow']; deploymentMode: Config['deploymentMode'] },
): Pick<Config, 'dataDir' | 'cache' | 'tokenCacheKey' | 'tokenCacheKeyPrevious'> {
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
        `CACHE_URL=${JSON.stringify(withoutUserinfo(cacheUrl))} is not valid: where tokens are cached; memory, sqlite://path or redis://[:password@]host:port (e.g. CACHE_URL=redis://127.0.0.1:6379)`,
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
  const previousRaw = env.get('TOKEN_CACHE_KEY_PREVIOUS');
  if (previousRaw !== undefined && !tokenCacheKeyRaw)
    env.problem(
      'TOKEN_CACHE_KEY_PREVIOUS is set without TOKEN_CACHE_KEY: a rotation needs the new key in TOKEN_CACHE_KEY and the old one in TOKEN_CACHE_KEY_PREVIOUS',
    );
  if (previousRaw !== undefined && previousRaw.length < 16)
    env.problem('TOKEN_CACHE_KEY_PREVIOUS is too short: the key TOKEN_CACHE_KEY replaces, at least 16 characters');
  return {
    dataDir,
    cache,
    ...(tokenCacheKeyRaw ? { tokenCacheKey: new Secret(tokenCacheKeyRaw) } : {}),
    ...(tokenCacheKeyRaw && previousRaw && previousRaw !== tokenCacheKeyRaw ? { tokenCacheKeyPrevious: new Secret(previousRaw) } : {}),
  };
}

/** CURSOR_KEY: signs paging cursors so they survive restarts and work across replicas; CURSOR_KEY_PREVIOUS during a rotation. */
export function readCursorKey(env: EnvReader): Pick<Config, 'cursorKey' | 'cursorKeyPrevious'> {
  const cursorKeyRaw = env.get('CURSOR_KEY');
  const longEnough = (raw: string | undefined): raw is string => raw !== undefined && Buffer.from(raw, 'base64').length >= 32;
  if (cursorKeyRaw !== undefined && !longEnough(cursorKeyRaw))
    env.problem(
      'CURSOR_KEY is too short: it signs paging cursors so they survive restarts and work across replicas; base64 of at least 32 random bytes (e.g. CURSOR_KEY=$(openssl rand -base64 32))',
    );
  const previousRaw = env.get('CURSOR_KEY_PREVIOUS');
  if (previousRaw !== undefined && !cursorKeyRaw)
    env.problem('CURSOR_KEY_PREVIOUS is set without CURSOR_KEY: a rotation needs the new key in CURSOR_KEY and the old one in CURSOR_KEY_PREVIOUS');
  if (previousRaw !== undefined && !longEnough(previousRaw))
    env.problem('CURSOR_KEY_PREVIOUS is too short: the key CURSOR_KEY replaces, base64 of at least 32 bytes');
  if (!longEnough(cursorKeyRaw)) return {};
  return {
    cursorKey: new Secret(cursorKeyRaw),
    ...(longEnough(previousRaw) && previousRaw !== cursorKeyRaw ? { cursorKeyPrevious: new Secret(previousRaw) } : {}),
  };
}
