/**
 * Switches of the emulator's Graph surface for readings of Graph's documentation that disagree, so
 * the gateway can be tested under each of them. Set at start (`startEmulator({ graph })`,
 * `EMULATOR_*` variables) or at run time (`GET`/`POST /_emulator/graph`); `POST /_emulator/reset`
 * restores the start values.
 */
export interface GraphSettings {
  /**
   * Largest page a collection request with `$expand` answers, whatever its `$top`; null = no cap
   * (`$top` is honoured up to 999). A 2023 text of Graph's query-parameter known issue and field
   * reports say `GET /users?$top=999&$expand=manager` pages hold at most 100 users; the current text
   * only bounds the expanded collection per object (docs/graph-facts.md#expand-and-page-size). The
   * default is the stricter reading.
   */
  expandPageCap: number | null;
  /**
   * Whether a `$select` nested in `$expand` (`$expand=manager($select=id,displayName)`) is honoured.
   * The List manager page documents it; Graph's query-parameter known issue says directory objects
   * do not support `$select` nested in `$expand` and that query parameters may fail silently
   * (docs/graph-facts.md#expand-and-page-size). `false`, the default and the stricter reading: the
   * option is accepted and ignored, and the expanded object carries its default properties only.
   */
  expandNestedSelect: boolean;
  /**
   * What a successful `POST /users/{id}/revokeSignInSessions` answers. Graph's known issue "Revoke
   * sign-in sessions returns wrong HTTP code" says the API should answer `204 No Content` and, due to
   * a service issue, answers `200 OK` with `{"value": true}`, and tells clients to take any 2xx as
   * success (docs/graph-facts.md#writes-and-permissions). 200, the default, is what the service
   * answers today; 204 is the documented intent, for tests that prove a client works once it is fixed.
   */
  revokeSignInSessionsStatus: 200 | 204;
  /**
   * What a `PATCH /users/{id}` of `{"passwordProfile": {"forceChangePasswordNextSignIn": true}}` without a
   * password does. microsoftgraph/microsoft-graph-docs#4267 (2019, labelled a product bug) reports Graph
   * answering 204 and changing nothing; later reports have the flag set. `applied`, the default, sets
   * it; `ignored` answers the same 204 and leaves the user as it was, so the gateway can be tested under
   * the older reading (docs/graph-facts.md#writes-and-permissions, "Forcing a password change").
   */
  forceChangeWithoutPassword: 'applied' | 'ignored';
  /**
   * Seconds a `$skiptoken` of a collection (users, directReports, memberOf) or of a `/users/delta`
   * round stays valid; null = for ever. Sources disagree: a Graph SDK maintainer says skip tokens have
   * no validity period (msgraph-sdk-javascript#1463); field reports get 400 `Directory_ExpiredPageToken`
   * paging users (msgraph-sdk-dotnet#2254, msgraph-sdk-java#368), and delta-query-overview says a delta
   * round's state tokens (the nextLink's `$skipToken` among them) are only valid for a period
   * (docs/graph-facts.md#paging, #delta-query). null, the default, keeps every token; a number lets
   * tests meet the expiry.
   */
  pageTokenLifetimeSeconds: number | null;
  /**
   * What `GET /users/{id}/directReports?$top=n` does with `$top`. The List directReports page names
   * `$select`, `$count`, `$expand` and `$filter` as its query parameters, not `$top`, and the paging
   * page says an API may ignore a page size it does not take (docs/graph-facts.md#listing-users, "Page
   * size out of range"). No source says Graph ignores it there, so `honoured`, the default, pages by
   * it; `ignored` answers Graph's default page of 100 whatever `$top` asks (a `$top` outside 1..999 is
   * still refused), so the gateway can be tested under that reading.
   */
  directReportsTop: 'honoured' | 'ignored';
  /**
   * Whether the items of a per-type authentication-method collection (`phoneMethods`, `emailMethods`,
   * ...) and a method read through one carry `@odata.type`. Sources disagree: the List phoneMethods,
   * emailMethods, fido2Methods, passwordMethods and temporaryAccessPassMethods examples show items
   * without it (OData's minimal metadata leaves the annotation out where the type is the collection's
   * own), the List microsoftAuthenticatorMethods example shows it (docs/graph-facts.md#authentication-method-reads).
   * `omitted`, the default and the stricter reading, leaves it out; `present` sends it. The mixed
   * `/authentication/methods` collection always carries it.
   */
  authMethodTypeAnnotation: 'omitted' | 'present';
  /**
   * What `POST /directoryObjects/getByIds?$select=...` does with `$select` for users. Graph's known issue
   * "Incomplete objects when using getByIds request" says v1.0 users come back with a limited set of
   * properties, and more complete ones with `$select`, a workaround that "might be updated in the
   * future"; an older text of directoryobject-getbyids said `$select` "is not available for this
   * operation" (docs/graph-facts.md#manager-and-bulk-lookup). `honoured`, the default, is what the known
   * issue describes today; `ignored` answers users with the limited set whatever `$select` names.
   */
  getByIdsSelect: 'honoured' | 'ignored';
  /**
   * What a successful `POST .../methods/{id}/resetPassword` answers. Its page answers `202 Accepted`
   * with a Location "Required" to poll, yet its prose says the answer "may also include" one, and a
   * vendor's connector documentation shows the call answered 204 without it
   * (docs/graph-facts.md#writes-and-permissions, "Reset password"). `accepted`, the default and the
   * page's shape: 202, Location, the operation settles a moment later. `completed`: the password is set
   * at once and the answer carries no Location (204, or 200 with a generated password).
   */
  resetPasswordAnswer: 'accepted' | 'completed';
  /**
   * Seconds the index behind advanced queries (`ConsistencyLevel: eventual`) trails the directory. The
   * transitiveMemberOf page says that header "uses an index that might not be up-to-date with recent
   * changes to the object", without a bound (docs/graph-facts.md#writes-and-permissions). The stricter
   * reading covers addressing too: with a lag, an advanced query on `/users/{userPrincipalName}/...`
   * finds the user by the name it had that many seconds ago, and not a user created since. 0, the
   * default, is an index that is always current; a number lets tests meet the lag.
   */
  advancedQueryIndexLagSeconds: number;
  /**
   * Whether the tenant holds Microsoft Entra ID P2 or Entra ID Governance, which PIM needs. `licensed`,
   * the default, serves the PIM lists. `unlicensed`: they answer 400 `AadPremiumLicenseRequired` (field
   * reports of tenants without P2; docs/graph-facts.md#writes-and-permissions, "Licence"), and since
   * Microsoft removes eligible assignments when the licence ends, there are none to read either.
   */
  pimLicence: 'licensed' | 'unlicensed';
}

export const DEFAULT_GRAPH_SETTINGS: Readonly<GraphSettings> = Object.freeze({
  expandPageCap: 100,
  expandNestedSelect: false,
  revokeSignInSessionsStatus: 200,
  forceChangeWithoutPassword: 'applied',
  pageTokenLifetimeSeconds: null,
  directReportsTop: 'honoured',
  authMethodTypeAnnotation: 'omitted',
  getByIdsSelect: 'honoured',
  resetPasswordAnswer: 'accepted',
  advancedQueryIndexLagSeconds: 0,
  pimLicence: 'licensed',
});

const KNOWN_KEYS = new Set<string>(Object.keys(DEFAULT_GRAPH_SETTINGS));

/** Validates a partial settings object; throws an Error that names the field and what was received. */
export function validateGraphSettings(input: unknown): Partial<GraphSettings> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new Error(`Graph settings must be a JSON object, received ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`);
  }
  const out: Partial<GraphSettings> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (!KNOWN_KEYS.has(key)) throw new Error(`unknown Graph setting '${key}'; known settings: ${[...KNOWN_KEYS].join(', ')}`);
    if (key === 'expandNestedSelect') {
      if (typeof value !== 'boolean') throw new Error(`Graph setting 'expandNestedSelect' must be true or false, received ${JSON.stringify(value)}`);
      out.expandNestedSelect = value;
      continue;
    }
    if (key === 'revokeSignInSessionsStatus') {
      if (value !== 200 && value !== 204) throw new Error(`Graph setting 'revokeSignInSessionsStatus' must be 200 or 204, received ${JSON.stringify(value)}`);
      out.revokeSignInSessionsStatus = value;
      continue;
    }
    if (isWordSwitch(key)) {
      (out as Record<WordSwitch, string>)[key] = oneOf(`Graph setting '${key}' must be`, value, WORD_SWITCHES[key].words);
      continue;
    }
    if (key === 'advancedQueryIndexLagSeconds') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw new Error(`Graph setting 'advancedQueryIndexLagSeconds' must be a whole number of seconds (0 or more), received ${JSON.stringify(value)}`);
      }
      out.advancedQueryIndexLagSeconds = value;
      continue;
    }
    if (key === 'pageTokenLifetimeSeconds') {
      if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
        throw new Error(`Graph setting 'pageTokenLifetimeSeconds' must be null (never expire) or a whole number of seconds, received ${JSON.stringify(value)}`);
      }
      out.pageTokenLifetimeSeconds = value as number | null;
      continue;
    }
    if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 999)) {
      throw new Error(`Graph setting '${key}' must be null (no cap) or a whole number from 1 to 999, received ${JSON.stringify(value)}`);
    }
    out.expandPageCap = value as number | null;
  }
  return out;
}

/**
 * `EMULATOR_EXPAND_PAGE_CAP`: a number from 1 to 999, or `off`; `EMULATOR_EXPAND_NESTED_SELECT`:
 * `honoured` or `ignored`; `EMULATOR_REVOKE_SESSIONS_STATUS`: `200` or `204`;
 * `EMULATOR_FORCE_CHANGE_WITHOUT_PASSWORD`: `applied` or `ignored`; `EMULATOR_DIRECT_REPORTS_TOP`:
 * `honoured` or `ignored`; `EMULATOR_PAGE_TOKEN_LIFETIME_SECONDS`: a whole number of seconds (0 or
 * more), or `off` (never expire); `EMULATOR_AUTH_METHOD_TYPE_ANNOTATION`: `omitted` or `present`;
 * `EMULATOR_GET_BY_IDS_SELECT`: `honoured` or `ignored`; `EMULATOR_RESET_PASSWORD_ANSWER`: `accepted` or
 * `completed`; `EMULATOR_ADVANCED_QUERY_INDEX_LAG_SECONDS`: a whole number of seconds; `EMULATOR_PIM_LICENCE`: `licensed` or
 * `unlicensed`. Unset keeps the default.
 */
export function graphSettingsFromEnv(env: Record<string, string | undefined>): Partial<GraphSettings> {
  const out: Partial<GraphSettings> = numberOrOffOfEnv(env, 'EMULATOR_EXPAND_PAGE_CAP', 'expandPageCap', 'a whole number from 1 to 999');
  const nested = wordOfEnv(env, 'EMULATOR_EXPAND_NESTED_SELECT', HONOURED_WORDS);
  if (nested !== undefined) out.expandNestedSelect = nested === 'honoured';
  const revokeStatus = env['EMULATOR_REVOKE_SESSIONS_STATUS']?.trim();
  if (revokeStatus !== undefined && revokeStatus !== '') {
    if (revokeStatus !== '200' && revokeStatus !== '204') {
      throw new Error(`EMULATOR_REVOKE_SESSIONS_STATUS=${JSON.stringify(revokeStatus)} is not valid: '200' or '204'`);
    }
    out.revokeSignInSessionsStatus = revokeStatus === '204' ? 204 : 200;
  }
  for (const key of Object.keys(WORD_SWITCHES) as WordSwitch[]) {
    const word = wordOfEnv(env, WORD_SWITCHES[key].env, WORD_SWITCHES[key].words);
    if (word !== undefined) (out as Record<WordSwitch, string>)[key] = word;
  }
  Object.assign(out, numberOrOffOfEnv(env, 'EMULATOR_PAGE_TOKEN_LIFETIME_SECONDS', 'pageTokenLifetimeSeconds', 'a whole number of seconds (0 or more)'));
  const lag = env['EMULATOR_ADVANCED_QUERY_INDEX_LAG_SECONDS']?.trim();
  if (lag !== undefined && lag !== '') {
    if (!/^\d+$/.test(lag))
      throw new Error(`EMULATOR_ADVANCED_QUERY_INDEX_LAG_SECONDS=${JSON.stringify(lag)} is not valid: a whole number of seconds (0 or more)`);
    out.advancedQueryIndexLagSeconds = Number(lag);
  }
  return out;
}

/** The words of the two-way switches, the same in POST /_emulator/graph and in the environment. */
const HONOURED_WORDS = ['honoured', 'ignored'] as const;
const FORCE_CHANGE_WORDS = ['applied', 'ignored'] as const;
const ANNOTATION_WORDS = ['omitted', 'present'] as const;
const RESET_ANSWER_WORDS = ['accepted', 'completed'] as const;
const LICENCE_WORDS = ['licensed', 'unlicensed'] as const;

/** The settings that take one of two words, and the environment variable of each. */
const WORD_SWITCHES = {
  forceChangeWithoutPassword: { words: FORCE_CHANGE_WORDS, env: 'EMULATOR_FORCE_CHANGE_WITHOUT_PASSWORD' },
  directReportsTop: { words: HONOURED_WORDS, env: 'EMULATOR_DIRECT_REPORTS_TOP' },
  getByIdsSelect: { words: HONOURED_WORDS, env: 'EMULATOR_GET_BY_IDS_SELECT' },
  authMethodTypeAnnotation: { words: ANNOTATION_WORDS, env: 'EMULATOR_AUTH_METHOD_TYPE_ANNOTATION' },
  resetPasswordAnswer: { words: RESET_ANSWER_WORDS, env: 'EMULATOR_RESET_PASSWORD_ANSWER' },
  pimLicence: { words: LICENCE_WORDS, env: 'EMULATOR_PIM_LICENCE' },
} as const satisfies Partial<Record<keyof GraphSettings, { words: readonly string[]; env: string }>>;
type WordSwitch = keyof typeof WORD_SWITCHES;
const isWordSwitch = (key: string): key is WordSwitch => Object.hasOwn(WORD_SWITCHES, key);

const wordsText = (allowed: readonly string[]): string => allowed.map((word) => `'${word}'`).join(' or ');

/** `value` when it is one of `allowed`; else an Error that starts with `what` and quotes what was received. */
function oneOf<T extends string>(what: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`${what} ${wordsText(allowed)}, received ${JSON.stringify(value)}`);
}

/**
 * A numeric setting from the environment: digits, or `off` (also `none`, `never`, `false`) for null;
 * checked by validateGraphSettings, whose refusal becomes the message naming the variable. Nothing
 * when unset or empty.
 */
function numberOrOffOfEnv(
  env: Record<string, string | undefined>,
  name: string,
  key: 'expandPageCap' | 'pageTokenLifetimeSeconds',
  expected: string,
): Partial<GraphSettings> {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return {};
  const value = /^(off|none|never|false)$/i.test(text) ? null : /^\d+$/.test(text) ? Number(text) : NaN;
  try {
    return validateGraphSettings({ [key]: value });
  } catch (error) {
    throw new Error(`${name}=${JSON.stringify(text)} is not valid: ${expected}, or 'off'`, { cause: error });
  }
}

/** An environment variable's word (trimmed, any case); undefined when unset or empty. */
function wordOfEnv<T extends string>(env: Record<string, string | undefined>, name: string, allowed: readonly T[]): T | undefined {
  const word = env[name]?.trim().toLowerCase();
  if (word === undefined || word === '') return undefined;
  if (!(allowed as readonly string[]).includes(word)) throw new Error(`${name}=${JSON.stringify(word)} is not valid: ${wordsText(allowed)}`);
  return word as T;
}
