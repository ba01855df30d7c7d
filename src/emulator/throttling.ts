/**
 * Entra's directory limits, enforced (docs/graph-facts.md#throttling, docs/emulator.md#directory-throttling):
 * a token bucket of resource units (RU) per 10 s and one of writes per 150 s for each app+tenant
 * pair, every request and every `$batch` item priced by Graph's cost table. A request that does not
 * fit is answered 429 with `Retry-After` (when its cost is back in the bucket) and the documented
 * `x-ms-throttle-scope` and `x-ms-throttle-information` headers; admitted requests carry
 * `x-ms-resource-unit`, and `x-ms-throttle-limit-percentage` once more than 80 % of the RU budget is
 * in use.
 *
 * The stricter reading where the documentation says nothing: a Tenant_Application 429 is about the
 * app in that tenant, so until its Retry-After has passed every request of that app+tenant gets 429
 * again (not charged), whichever process sent it. A client that shares Retry-After across its
 * replicas passes; one that keeps calling from another replica is refused.
 *
 * Off by default (`resourceUnitsPer10s: null`): most tests and the benchmark measure other things.
 * The cost table is the emulator's own reading of Graph's documentation; it must not import the
 * gateway's (src/graph/graph-cost.ts), so that a mistake in one is caught by the other.
 */

export interface ThrottlingSettings {
  /** RU per 10 s per app+tenant (Graph: 3,500 / 5,000 / 8,000 by tenant size); null: not enforced. */
  resourceUnitsPer10s: number | null;
  /** Writes per 150 s per app+tenant (Graph: 3,000); null: not enforced. */
  writesPer150s: number | null;
}

export const DEFAULT_THROTTLING_SETTINGS: Readonly<ThrottlingSettings> = Object.freeze({ resourceUnitsPer10s: null, writesPer150s: null });

const KNOWN_KEYS = new Set<string>(Object.keys(DEFAULT_THROTTLING_SETTINGS));
const READ_WINDOW_MS = 10_000;
const WRITE_WINDOW_MS = 150_000;

/** Validates a partial settings object; throws an Error that names the field and what was received. */
export function validateThrottlingSettings(input: unknown): Partial<ThrottlingSettings> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new Error(`throttling settings must be a JSON object, received ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`);
  }
  const out: Partial<ThrottlingSettings> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (!KNOWN_KEYS.has(key)) throw new Error(`unknown throttling setting '${key}'; known settings: ${[...KNOWN_KEYS].join(', ')}`);
    if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10_000_000)) {
      throw new Error(`throttling setting '${key}' must be null (not enforced) or a whole number from 1 to 10000000, received ${JSON.stringify(value)}`);
    }
    out[key as keyof ThrottlingSettings] = value as number | null;
  }
  return out;
}

/** EMULATOR_RU_PER_10S and EMULATOR_WRITES_PER_150S: a whole number, or `off`; unset keeps the default (off). */
export function throttlingSettingsFromEnv(env: Record<string, string | undefined>): Partial<ThrottlingSettings> {
  const names: Record<keyof ThrottlingSettings, string> = { resourceUnitsPer10s: 'EMULATOR_RU_PER_10S', writesPer150s: 'EMULATOR_WRITES_PER_150S' };
  const raw: Record<string, number | null> = {};
  for (const [key, name] of Object.entries(names)) {
    const text = env[name]?.trim();
    if (text === undefined || text === '') continue;
    raw[key] = /^(off|none|false)$/i.test(text) ? null : Number(text);
    try {
      validateThrottlingSettings({ [key]: raw[key] });
    } catch (error) {
      throw new Error(`${name}=${JSON.stringify(text)} is not valid: a whole number from 1 to 10000000, or 'off'`, { cause: error });
    }
  }
  return validateThrottlingSettings(raw);
}

export interface DirectoryCost {
  resourceUnits: number;
  writes: number;
}

/** Base RU of the reads Graph's table lists; any other request costs 1. */
const BASE_COSTS: ReadonlyArray<[RegExp, number]> = [
  [/^GET \/users$/, 2],
  [/^GET \/groups\/[^/]+\/members(\/|$)/, 3],
  [/^GET \/groups\/[^/]+\/transitiveMembers(\/|$)/, 5],
  [/^POST \/(directoryObjects\/)?(getByIds|getObjectsById)$/, 5],
  [/^GET \/(me|users\/[^/]+)\/(memberOf|transitiveMemberOf|ownedObjects|licenseDetails)(\/|$)/, 2],
  [/^POST \/(me|users\/[^/]+)\/(getMemberGroups|getMemberObjects)$/, 2],
  [/^POST \/(me|users\/[^/]+)\/(checkMemberGroups|checkMemberObjects)$/, 4],
  [/^POST .*\/isMemberOf$/, 4],
  [/^GET \/(applications|oauth2PermissionGrants(\/[^/]+)?|applications\/[^/]+\/extensionProperties|servicePrincipals\/[^/]+\/appRoleAssignments)$/, 2],
  [/^GET \/(contracts|subscribedSkus)$/, 3],
  [/^GET \/domains\/[^/]+\/domainNameReferences$/, 4],
];

/** POST actions that read: Graph's table gives them a write cost of 0. */
const READING_POSTS = /\/(getByIds|getObjectsById|getMemberGroups|getMemberObjects|checkMemberGroups|checkMemberObjects|isMemberOf)$/;

/**
 * What one request costs, from its route (`GET /v1.0/users/{id}/memberOf` as the router names it) and
 * query: writes (POST/PATCH/PUT/DELETE but read actions) 1 RU and 1 write; reads their base cost,
 * `$select` −1, `$expand` +1, `$top` < 20 −1, never below 1; getByIds and getObjectsById with
 * `$select` exactly 2.
 */
export function directoryCost(route: string, query: URLSearchParams): DirectoryCost {
  const space = route.indexOf(' ');
  const method = route.slice(0, space).toUpperCase();
  const path = route.slice(space + 1).replace(/^\/(v1\.0|beta)(?=\/|$)/, '');
  const line = `${method} ${path}`;
  const param = (name: string) => query.get(name) ?? query.get(name.slice(1));
  const has = (name: string) => (param(name) ?? '') !== '';
  if (method !== 'GET' && !(method === 'POST' && READING_POSTS.test(path))) return { resourceUnits: 1, writes: 1 };
  if (/^POST \/(directoryObjects\/)?(getByIds|getObjectsById)$/.test(line) && has('$select')) return { resourceUnits: 2, writes: 0 };
  let cost = BASE_COSTS.find(([pattern]) => pattern.test(line))?.[1] ?? 1;
  if (has('$select')) cost -= 1;
  if (has('$expand')) cost += 1;
  const top = Number(param('$top'));
  if (has('$top') && Number.isFinite(top) && top < 20) cost -= 1;
  return { resourceUnits: Math.max(1, cost), writes: 0 };
}

export type ThrottleDecision =
  | { kind: 'admitted'; cost: DirectoryCost; headers: Record<string, string> }
  | {
      kind: 'throttled';
      retryAfterSeconds: number;
      /** `x-ms-throttle-scope` */
      scope: string;
      /** `x-ms-throttle-information` */
      information: 'ResourceUnitLimitExceeded' | 'WriteLimitExceeded';
    };

interface Bucket {
  resourceUnits: number;
  writes: number;
  at: number;
  /** The last 429's Retry-After ends here; until then the app+tenant is refused. */
  blockedUntil: number;
  blocked?: { scope: string; information: 'ResourceUnitLimitExceeded' | 'WriteLimitExceeded' };
}

/** The app+tenant buckets of one emulator. */
export class DirectoryThrottle {
  settings: ThrottlingSettings;
  private readonly initial: ThrottlingSettings;
  private buckets = new Map<string, Bucket>();

  constructor(initial: Partial<ThrottlingSettings> = {}) {
    this.initial = { ...DEFAULT_THROTTLING_SETTINGS, ...validateThrottlingSettings(initial) };
    this.settings = { ...this.initial };
  }

  /** Replaces the given settings (others keep their value); every bucket starts full again. */
  configure(input: unknown): ThrottlingSettings {
    this.settings = { ...this.settings, ...validateThrottlingSettings(input) };
    this.buckets.clear();
    return this.settings;
  }

  /** Back to the start settings (`POST /_emulator/reset`). */
  reset(): void {
    this.settings = { ...this.initial };
    this.buckets.clear();
  }

  get enforced(): boolean {
    return this.settings.resourceUnitsPer10s !== null || this.settings.writesPer150s !== null;
  }

  /** Charges one request (or `$batch` item) of `appId` in `tenantId` at `nowMs`, or refuses it. */
  charge(appId: string, tenantId: string, cost: DirectoryCost, nowMs: number): ThrottleDecision {
    const ruLimit = this.settings.resourceUnitsPer10s;
    const writeLimit = this.settings.writesPer150s;
    const admitted = (headers: Record<string, string> = {}): ThrottleDecision => ({
      kind: 'admitted',
      cost,
      headers: { 'x-ms-resource-unit': String(cost.resourceUnits), ...headers },
    });
    if (ruLimit === null && writeLimit === null) return admitted();
    const key = `${appId.toLowerCase()}|${tenantId.toLowerCase()}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { resourceUnits: ruLimit ?? 0, writes: writeLimit ?? 0, at: nowMs, blockedUntil: 0 };
      this.buckets.set(key, bucket);
    }
    const elapsed = Math.max(0, nowMs - bucket.at);
    bucket.at = nowMs;
    if (ruLimit !== null) bucket.resourceUnits = Math.min(ruLimit, bucket.resourceUnits + (elapsed * ruLimit) / READ_WINDOW_MS);
    if (writeLimit !== null) bucket.writes = Math.min(writeLimit, bucket.writes + (elapsed * writeLimit) / WRITE_WINDOW_MS);
    if (nowMs < bucket.blockedUntil && bucket.blocked) {
      return { kind: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil((bucket.blockedUntil - nowMs) / 1000)), ...bucket.blocked };
    }
    const refuse = (waitMs: number, limit: 'ReadWrite' | 'Write', information: 'ResourceUnitLimitExceeded' | 'WriteLimitExceeded'): ThrottleDecision => {
      const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
      const blocked = { scope: `Tenant_Application/${limit}/${appId}/${tenantId}`, information };
      bucket.blockedUntil = nowMs + retryAfterSeconds * 1000;
      bucket.blocked = blocked;
      return { kind: 'throttled', retryAfterSeconds, ...blocked };
    };
    if (ruLimit !== null && cost.resourceUnits > bucket.resourceUnits) {
      return refuse(((cost.resourceUnits - bucket.resourceUnits) * READ_WINDOW_MS) / ruLimit, 'ReadWrite', 'ResourceUnitLimitExceeded');
    }
    if (writeLimit !== null && cost.writes > bucket.writes) {
      return refuse(((cost.writes - bucket.writes) * WRITE_WINDOW_MS) / writeLimit, 'Write', 'WriteLimitExceeded');
    }
    if (ruLimit !== null) bucket.resourceUnits -= cost.resourceUnits;
    if (writeLimit !== null) bucket.writes -= cost.writes;
    if (ruLimit === null) return admitted();
    // Graph sends this header only past 80 % of the limit (0.8 to 1.8; a bucket that refuses instead of going over stops at 1.0).
    const used = (ruLimit - bucket.resourceUnits) / ruLimit;
    return admitted(used > 0.8 ? { 'x-ms-throttle-limit-percentage': used.toFixed(1) } : {});
  }
}
