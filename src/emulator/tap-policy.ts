/**
 * The tenant's Temporary Access Pass policy (Graph's temporaryAccessPassAuthenticationMethodConfiguration),
 * which decides what `POST /users/{id}/authentication/temporaryAccessPassMethods` accepts and what it
 * fills in (docs/graph-facts.md#temporary-access-pass). Set at start (`startEmulator({ temporaryAccessPassPolicy })`,
 * `EMULATOR_TAP_POLICY`) or at run time (`GET`/`POST /_emulator/tap-policy`); `POST /_emulator/reset`
 * restores the start values.
 */

export interface TemporaryAccessPassPolicy {
  /**
   * Whether the method is enabled in the tenant. Entra makes an administrator enable it before
   * passes can be used; the sandbox tenant has it enabled, as a tenant that issues passes would.
   */
  state: 'enabled' | 'disabled';
  /** Applied when a create request omits lifetimeInMinutes; between the minimum and the maximum. */
  defaultLifetimeInMinutes: number;
  /** Bounds of every pass created in the tenant, each 10 to 43200 minutes. */
  minimumLifetimeInMinutes: number;
  maximumLifetimeInMinutes: number;
  /** true: every pass in the tenant is one-time; false: a pass may be one-time or reusable. */
  isUsableOnce: boolean;
  /** Characters of a pass, 8 to 48. */
  defaultLength: number;
}

/**
 * Entra's defaults (learn.microsoft.com/entra/identity/authentication/howto-authentication-temporary-access-pass,
 * "Enable the Temporary Access Pass policy"): minimum lifetime 1 hour, maximum 8 hours, default
 * 1 hour, one-time use false, length 8.
 */
export const ENTRA_DEFAULT_TAP_POLICY: Readonly<TemporaryAccessPassPolicy> = Object.freeze({
  state: 'enabled',
  defaultLifetimeInMinutes: 60,
  minimumLifetimeInMinutes: 60,
  maximumLifetimeInMinutes: 480,
  isUsableOnce: false,
  defaultLength: 8,
});

const KNOWN_KEYS = new Set<string>(Object.keys(ENTRA_DEFAULT_TAP_POLICY));
/** The range Graph's resource page and Entra's table give every lifetime setting. */
const LIFETIME_MIN = 10;
const LIFETIME_MAX = 43_200;

/**
 * `base` with the fields of `input` applied, checked as a whole against Graph's documented ranges
 * (resources/temporaryaccesspassauthenticationmethodconfiguration): lifetimes 10 to 43200 minutes,
 * the default between the minimum and the maximum, length 8 to 48. Throws an Error that says why.
 */
export function applyTapPolicy(base: Readonly<TemporaryAccessPassPolicy>, input: unknown): TemporaryAccessPassPolicy {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new Error(
      `the Temporary Access Pass policy must be a JSON object, received ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`,
    );
  }
  const next: TemporaryAccessPassPolicy = { ...base };
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (!KNOWN_KEYS.has(key)) throw new Error(`unknown Temporary Access Pass policy setting '${key}'; known settings: ${[...KNOWN_KEYS].join(', ')}`);
    if (key === 'state') {
      if (value !== 'enabled' && value !== 'disabled') throw new Error(`'state' must be "enabled" or "disabled", received ${JSON.stringify(value)}`);
      next.state = value;
    } else if (key === 'isUsableOnce') {
      if (typeof value !== 'boolean') throw new Error(`'isUsableOnce' must be true or false, received ${JSON.stringify(value)}`);
      next.isUsableOnce = value;
    } else {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`'${key}' must be a whole number, received ${JSON.stringify(value)}`);
      next[key as 'defaultLifetimeInMinutes' | 'minimumLifetimeInMinutes' | 'maximumLifetimeInMinutes' | 'defaultLength'] = value;
    }
  }
  for (const key of ['minimumLifetimeInMinutes', 'maximumLifetimeInMinutes', 'defaultLifetimeInMinutes'] as const) {
    if (next[key] < LIFETIME_MIN || next[key] > LIFETIME_MAX)
      throw new Error(`'${key}' must be from ${LIFETIME_MIN} to ${LIFETIME_MAX} minutes, received ${next[key]}`);
  }
  if (next.minimumLifetimeInMinutes > next.maximumLifetimeInMinutes) {
    throw new Error(`'minimumLifetimeInMinutes' (${next.minimumLifetimeInMinutes}) is above 'maximumLifetimeInMinutes' (${next.maximumLifetimeInMinutes})`);
  }
  if (next.defaultLifetimeInMinutes < next.minimumLifetimeInMinutes || next.defaultLifetimeInMinutes > next.maximumLifetimeInMinutes) {
    throw new Error(
      `'defaultLifetimeInMinutes' (${next.defaultLifetimeInMinutes}) must be between the minimum (${next.minimumLifetimeInMinutes}) and the maximum (${next.maximumLifetimeInMinutes})`,
    );
  }
  if (next.defaultLength < 8 || next.defaultLength > 48) throw new Error(`'defaultLength' must be from 8 to 48 characters, received ${next.defaultLength}`);
  return next;
}

/** `EMULATOR_TAP_POLICY`: a JSON object of policy settings (e.g. `{"isUsableOnce":true}`); unset keeps Entra's defaults. */
export function tapPolicyFromEnv(env: Record<string, string | undefined>): Partial<TemporaryAccessPassPolicy> {
  const text = env['EMULATOR_TAP_POLICY']?.trim();
  if (text === undefined || text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`EMULATOR_TAP_POLICY=${JSON.stringify(text)} is not valid: a JSON object such as {"isUsableOnce":true,"maximumLifetimeInMinutes":120}`);
  }
  try {
    applyTapPolicy(ENTRA_DEFAULT_TAP_POLICY, parsed);
  } catch (error) {
    throw new Error(`EMULATOR_TAP_POLICY is not valid: ${(error as Error).message}`, { cause: error });
  }
  return parsed as Partial<TemporaryAccessPassPolicy>;
}
