/**
 * Fault injection for the emulator's Graph surface, modelled on Dev Proxy's GraphRandomErrorPlugin,
 * RetryAfterPlugin and LatencyPlugin (docs/graph-facts.md#fault-simulation). Dice come from a seeded PRNG so a rate gives
 * the same sequence of faults on every run with the same seed.
 */
import { createPrng, type Prng } from './prng.js';

export interface FaultSettings {
  /** Added once per upstream HTTP request (a `$batch` envelope counts once, not per item). */
  latencyMs: number;
  /** Probability (0..1) of a 429 TooManyRequests. */
  throttleRate: number;
  /** Probability (0..1) of a 503 serviceNotAvailable. */
  unavailableRate: number;
  /** Probability (0..1) of a 504 GatewayTimeout. */
  timeoutRate: number;
  /** Probability (0..1) that the connection is dropped without an answer. */
  dropRate: number;
  /** `Retry-After` on 429 and 503 answers, in seconds. */
  retryAfterSeconds: number;
  /** Seed of the dice. */
  seed: number;
}

export const DEFAULT_FAULT_SETTINGS: Readonly<FaultSettings> = Object.freeze({
  latencyMs: 0,
  throttleRate: 0,
  unavailableRate: 0,
  timeoutRate: 0,
  dropRate: 0,
  retryAfterSeconds: 1,
  seed: 1,
});

const RATE_KEYS = ['throttleRate', 'unavailableRate', 'timeoutRate', 'dropRate'] as const;
const KNOWN_KEYS = new Set<string>(Object.keys(DEFAULT_FAULT_SETTINGS));

/** Validates a partial settings object; throws an Error that names the field and what was received. */
export function validateFaultSettings(input: unknown): Partial<FaultSettings> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new Error(`fault settings must be a JSON object, received ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`);
  }
  const out: Partial<FaultSettings> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new Error(`unknown fault setting '${key}'; known settings: ${[...KNOWN_KEYS].join(', ')}`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`fault setting '${key}' must be a finite number, received ${JSON.stringify(value)}`);
    }
    if ((RATE_KEYS as readonly string[]).includes(key) && (value < 0 || value > 1)) {
      throw new Error(`fault setting '${key}' is a probability and must be between 0 and 1, received ${value}`);
    }
    if ((key === 'latencyMs' || key === 'retryAfterSeconds') && (value < 0 || value > 600_000)) {
      throw new Error(`fault setting '${key}' must be between 0 and 600000, received ${value}`);
    }
    if (key === 'seed' && !Number.isInteger(value)) throw new Error(`fault setting 'seed' must be an integer, received ${value}`);
    out[key as keyof FaultSettings] = value;
  }
  const merged = { ...DEFAULT_FAULT_SETTINGS, ...out };
  const total = RATE_KEYS.reduce((sum, k) => sum + merged[k], 0);
  if (total > 1) throw new Error(`the fault rates add up to ${total}, which is more than 1`);
  return out;
}

/** Reads EMULATOR_* variables (the CLI's contract); unset variables keep the defaults. */
export function faultSettingsFromEnv(env: Record<string, string | undefined>): Partial<FaultSettings> {
  const names: Record<keyof FaultSettings, string> = {
    latencyMs: 'EMULATOR_LATENCY_MS',
    throttleRate: 'EMULATOR_THROTTLE_RATE',
    unavailableRate: 'EMULATOR_UNAVAILABLE_RATE',
    timeoutRate: 'EMULATOR_TIMEOUT_RATE',
    dropRate: 'EMULATOR_DROP_RATE',
    retryAfterSeconds: 'EMULATOR_RETRY_AFTER_SECONDS',
    seed: 'EMULATOR_FAULT_SEED',
  };
  const raw: Record<string, number> = {};
  for (const [key, name] of Object.entries(names)) {
    const text = env[name]?.trim();
    if (text === undefined || text === '') continue;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`${name} must be a number, received '${text}'`);
    raw[key] = value;
  }
  try {
    return validateFaultSettings(raw);
  } catch (error) {
    throw new Error(`invalid EMULATOR_* fault settings: ${(error as Error).message}`, { cause: error });
  }
}

/** What the dice said for one request (or one `$batch` item). */
export type FaultDecision =
  | { kind: 'none' }
  | { kind: 'throttled'; retryAfterSeconds: number }
  | { kind: 'unavailable'; retryAfterSeconds: number }
  | { kind: 'timeouts' }
  | { kind: 'dropped' };

export class FaultInjector {
  settings: FaultSettings;
  private prng: Prng;
  /** Per client (app id): when its last 429's Retry-After ends (ms on the emulator clock). */
  private readonly throttledUntil = new Map<string, number>();
  /** Targeted faults (`POST /_emulator/faults/rules`), none by default; `reset()` clears them. */
  readonly rules = new FaultRules();

  constructor(initial: Partial<FaultSettings> = {}) {
    this.settings = { ...DEFAULT_FAULT_SETTINGS, ...validateFaultSettings(initial) };
    this.prng = createPrng(this.settings.seed);
  }

  /**
   * Replaces the given settings (others keep their value) and restarts the dice. Open Retry-After
   * windows survive, as they would on a real service whose load changed; `reset()` clears them.
   */
  configure(input: unknown): FaultSettings {
    const partial = validateFaultSettings(input);
    this.settings = { ...this.settings, ...partial };
    this.prng = createPrng(this.settings.seed);
    return this.settings;
  }

  reset(): void {
    this.settings = { ...DEFAULT_FAULT_SETTINGS };
    this.prng = createPrng(this.settings.seed);
    this.throttledUntil.clear();
    this.rules.clear();
  }

  async delay(): Promise<void> {
    if (this.settings.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.settings.latencyMs));
  }

  /**
   * Rolls the dice for one request from `clientKey` at `nowMs`. A client that comes back before its
   * last Retry-After has passed is throttled again without a roll (RetryAfterPlugin behaviour).
   * `$batch` items only roll (their envelope already passed the Retry-After check), but a throttled
   * item still starts a Retry-After window for its client.
   */
  decide(clientKey: string, nowMs: number, options: { honourRetryAfter: boolean } = { honourRetryAfter: true }): FaultDecision {
    const until = this.throttledUntil.get(clientKey);
    if (until !== undefined && options.honourRetryAfter) {
      if (nowMs < until) return { kind: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil((until - nowMs) / 1000)) };
      this.throttledUntil.delete(clientKey);
    }
    const s = this.settings;
    if (s.throttleRate + s.unavailableRate + s.timeoutRate + s.dropRate === 0) return { kind: 'none' };
    const roll = this.prng.next();
    let edge = s.throttleRate;
    if (roll < edge) {
      if (s.retryAfterSeconds > 0) this.throttledUntil.set(clientKey, nowMs + s.retryAfterSeconds * 1000);
      return { kind: 'throttled', retryAfterSeconds: s.retryAfterSeconds };
    }
    edge += s.unavailableRate;
    if (roll < edge) return { kind: 'unavailable', retryAfterSeconds: s.retryAfterSeconds };
    edge += s.timeoutRate;
    if (roll < edge) return { kind: 'timeouts' };
    edge += s.dropRate;
    if (roll < edge) return { kind: 'dropped' };
    return { kind: 'none' };
  }
}

/**
 * A targeted fault: Graph's answer to one resource, for tests that need exactly one user's request
 * (or one `$batch` item) to fail while its neighbours succeed, which the dice above cannot aim.
 * Modelled on Dev Proxy's MockResponsePlugin (a mock answers requests to one URL with a given status
 * and body; docs/graph-facts.md#fault-simulation). Off until a test sets rules through
 * `POST /_emulator/faults/rules`; `POST /_emulator/reset` clears them.
 */
export interface FaultRule {
  /** HTTP method, upper case (default `GET`). */
  method: string;
  /** Path relative to the version root, without the query (`/users/{id}/directReports`), compared case-insensitively. */
  path: string;
  /**
   * The answer: a Graph error status (403 `Authorization_RequestDenied`, 404 `Request_ResourceNotFound`,
   * 429 `TooManyRequests` and 503 `serviceNotAvailable` with `Retry-After`, 500 `InternalServerError`), or
   * `malformed`: a 200 whose body is not the resource's shape (a collection without a `value` array).
   */
  answer: 403 | 404 | 429 | 500 | 503 | 'malformed';
  /** How many matching requests it answers before it stops (null: every one). */
  times: number | null;
}

const RULE_ANSWERS = new Set<unknown>([403, 404, 429, 500, 503, 'malformed']);
const MAX_FAULT_RULES = 100;

/** Validates `{ "rules": [...] }`; throws an Error naming the rule and the field. */
export function validateFaultRules(input: unknown): FaultRule[] {
  const rules = (input as { rules?: unknown } | null)?.rules;
  if (input === null || typeof input !== 'object' || !Array.isArray(rules)) throw new Error('fault rules must be a JSON object { "rules": [...] }');
  if (rules.length > MAX_FAULT_RULES) throw new Error(`at most ${MAX_FAULT_RULES} fault rules, received ${rules.length}`);
  return rules.map((raw: unknown, index) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`fault rule ${index} must be a JSON object`);
    const r = raw as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (!['method', 'path', 'answer', 'times'].includes(key))
        throw new Error(`fault rule ${index}: unknown field '${key}'; known fields: method, path, answer, times`);
    }
    if (typeof r.path !== 'string' || !r.path.startsWith('/') || r.path.includes('?')) {
      throw new Error(`fault rule ${index}: 'path' must be a path relative to the version root without a query, such as /users/{id}/directReports`);
    }
    if (!RULE_ANSWERS.has(r.answer))
      throw new Error(`fault rule ${index}: 'answer' must be one of 403, 404, 429, 500, 503, "malformed", received ${JSON.stringify(r.answer)}`);
    if (r.method !== undefined && (typeof r.method !== 'string' || !/^[A-Za-z]+$/.test(r.method)))
      throw new Error(`fault rule ${index}: 'method' must be an HTTP method`);
    if (r.times !== undefined && r.times !== null && !(typeof r.times === 'number' && Number.isInteger(r.times) && r.times > 0)) {
      throw new Error(`fault rule ${index}: 'times' must be a positive whole number or null, received ${JSON.stringify(r.times)}`);
    }
    return {
      method: typeof r.method === 'string' ? r.method.toUpperCase() : 'GET',
      path: r.path,
      answer: r.answer as FaultRule['answer'],
      times: typeof r.times === 'number' ? r.times : null,
    };
  });
}

/** The rules in force, with how many answers each has left. */
export class FaultRules {
  private rules: FaultRule[] = [];

  list(): FaultRule[] {
    return this.rules.map((rule) => ({ ...rule }));
  }

  replace(input: unknown): FaultRule[] {
    this.rules = validateFaultRules(input);
    return this.list();
  }

  clear(): void {
    this.rules = [];
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** The answer of the first rule matching `method` and the version-relative `path`, spending one of its `times`. */
  take(method: string, path: string): FaultRule['answer'] | undefined {
    const wanted = path.toLowerCase();
    const rule = this.rules.find((r) => r.method === method && r.path.toLowerCase() === wanted && (r.times === null || r.times > 0));
    if (!rule) return undefined;
    if (rule.times !== null) rule.times -= 1;
    return rule.answer;
  }
}
