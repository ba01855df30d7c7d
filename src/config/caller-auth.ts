import { createHash } from 'node:crypto';
import type { ApiKeyEntry, CallerAuthMode, Config } from '../config-types.js';
import { isGuid } from '../guid.js';
import { ALL_PERMISSIONS, DEFAULT_API_KEY_PERMISSIONS, isPermission, type Permission } from '../permissions.js';
import { commaSeparated, type EnvReader } from './env-reader.js';
import { isLoopbackHost } from './server.js';

/** Who may call the gateway: CALLER_AUTH and, per mode, API_AUDIENCE or API_KEYS. */
export function readCallerAuth(
  env: EnvReader,
  context: { host: string; sandbox: boolean; noCredentialsInProduction: boolean; purpose: 'gateway' | 'tool' | undefined },
): Config['callerAuth'] {
  const callerMode = env.oneOf<CallerAuthMode>('CALLER_AUTH', ['none', 'entra', 'api-key'], 'none', 'who may call the gateway');
  let callerAuth: Config['callerAuth'] = { mode: 'none' };
  // `none` is a default only for the sandbox; a real tenant's gateway is never open by omission.
  if (env.get('CALLER_AUTH') === undefined && !context.sandbox && !context.noCredentialsInProduction && context.purpose !== 'tool')
    env.problem(
      'CALLER_AUTH is missing: outside the sandbox, say who may call the gateway: CALLER_AUTH=api-key (with API_KEYS), CALLER_AUTH=entra (Entra access tokens, with API_AUDIENCE), or CALLER_AUTH=none (no caller authentication: loopback only, and every local caller holds every permission)',
    );
  if (callerMode === 'none' && !isLoopbackHost(context.host))
    env.problem(
      `CALLER_AUTH=none with HOST=${context.host} is refused: without caller authentication the gateway may only listen on loopback; set CALLER_AUTH=entra or CALLER_AUTH=api-key (e.g. CALLER_AUTH=api-key API_KEYS=...) or HOST=127.0.0.1`,
    );
  // Behind a proxy every client of the proxy arrives over loopback: all of them would be trusted.
  if (callerMode === 'none' && env.get('TRUSTED_PROXIES') !== undefined)
    env.problem(
      'CALLER_AUTH=none with TRUSTED_PROXIES is refused: without caller authentication the only credential is "the request came over loopback", and behind a proxy every client of the proxy does; set CALLER_AUTH=api-key (with API_KEYS) or CALLER_AUTH=entra',
    );
  if (callerMode === 'entra') {
    const raw = env.get('API_AUDIENCE');
    if (!raw)
      env.problem(
        "API_AUDIENCE is missing: with CALLER_AUTH=entra, the audiences callers' tokens are issued for, comma separated: your API's Application ID URI (v1.0 tokens) and/or its client id (v2.0 tokens) (e.g. API_AUDIENCE=api://msgraph-user-gateway,0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f)",
      );
    else {
      const audiences = parseAudiences(raw, env);
      if (audiences.length > 0) callerAuth = { mode: 'entra', audiences };
    }
  }
  if (callerMode === 'api-key') {
    const raw = env.get('API_KEYS');
    const keys = raw ? parseApiKeys(raw, env) : [];
    if (!raw)
      env.problem(
        'API_KEYS is missing: with CALLER_AUTH=api-key, the accepted keys as name:sha256hex:Permission+Permission, comma separated (e.g. API_KEYS=soar:9f86d08...:Users.Read+Users.Terminate)',
      );
    callerAuth = { mode: 'api-key', keys };
  }
  return callerAuth;
}

/**
 * API_AUDIENCE: a comma-separated list of App ID URIs (a URI such as api://contoso-gateway or
 * https://contoso.com/gateway) and client ids (GUIDs). Which one a token carries depends on the
 * token version the API's registration asks for (docs/graph-facts.md#caller-tokens).
 */
function parseAudiences(raw: string, env: EnvReader): string[] {
  const audiences: string[] = [];
  for (const value of commaSeparated(raw)) {
    if (isGuid(value)) audiences.push(value.toLowerCase());
    else if (/\/\.default$/i.test(value))
      env.problem(
        `API_AUDIENCE entry ${JSON.stringify(value)} is a scope, not an audience: drop "/.default" (e.g. API_AUDIENCE=${value.replace(/\/\.default$/i, '')})`,
      );
    else if (/^[a-z][a-z0-9+.-]*:\S+$/i.test(value)) audiences.push(value.replace(/\/+$/, ''));
    else
      env.problem(
        `API_AUDIENCE entry ${JSON.stringify(value)} is not valid: an Application ID URI (e.g. api://msgraph-user-gateway) or an application (client) id GUID`,
      );
  }
  return [...new Set(audiences)];
}

/** What a permission name may look like to be quoted back in a problem (`Users.Fly`); anything else is not shown. */
const PERMISSION_LIKE = /^[A-Za-z][A-Za-z.]{0,63}$/;

function parseApiKeys(raw: string, env: EnvReader): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  const parts = commaSeparated(raw);
  for (const [index, part] of parts.entries()) {
    const [id, hash, perms] = part.split(':');
    if (!id || !hash || !/^[0-9a-f]{64}$/i.test(hash)) {
      // Named by its position, never by its text: an entry without the name:sha256hex shape is
      // what an operator writes who pasted the key itself (API_KEYS=<key>, or <key>:Users.Read), and
      // this message goes to stderr, the container log. Quoting its first field printed the key.
      env.problem(
        `API_KEYS entry ${index + 1} of ${parts.length} is not valid (not shown: it may hold a key): each key is name:sha256hex[:Permission+Permission] where sha256hex is the SHA-256 of the key in hex, never the key itself (e.g. API_KEYS=soar:$(printf %s "$KEY" | sha256sum | cut -c1-64):Users.Read+Users.Terminate)`,
      );
      continue;
    }
    // A key without a list may read profiles and nothing else (docs/security.md#permissions).
    const permissions = new Set<Permission>();
    for (const p of perms === undefined ? DEFAULT_API_KEY_PERMISSIONS : perms.split('+')) {
      if (isPermission(p)) permissions.add(p);
      else
        env.problem(
          `API_KEYS entry "${id}" names an unknown permission ${PERMISSION_LIKE.test(p) ? JSON.stringify(p) : '(not shown)'}: one of ${ALL_PERMISSIONS.join(', ')}`,
        );
    }
    const sha256 = Buffer.from(hash, 'hex');
    // A key is known by its name in logs and audit events (docs/identity.md#api-keys), and matched by
    // the first entry holding its hash: a hash listed twice authenticated as the first entry alone,
    // whatever the second said, and one name with two permission lists made an audit event's
    // `keyId` say nothing about what the caller could do. One name on two hashes with the same
    // permissions is a rotation (old and new key side by side) and stays allowed.
    const sameKey = entries.find((entry) => entry.sha256.equals(sha256));
    if (sameKey) {
      env.problem(`API_KEYS entries "${sameKey.id}" and "${id}" hold the same key (one SHA-256): list each key once`);
      continue;
    }
    const sameName = entries.find((entry) => entry.id === id);
    if (sameName && !samePermissions(sameName.permissions, permissions)) {
      env.problem(
        `API_KEYS entries named "${id}" hold different permissions: entries of one name (an old and a new key during a rotation) must hold the same ones, since logs and audit events name a key by its name`,
      );
      continue;
    }
    entries.push({ id, sha256, permissions });
  }
  return entries;
}

function samePermissions(a: ReadonlySet<Permission>, b: ReadonlySet<Permission>): boolean {
  return a.size === b.size && [...a].every((permission) => b.has(permission));
}

/** SHA-256 hex of an API key, as API_KEYS expects it. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
