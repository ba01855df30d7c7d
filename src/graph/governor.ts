import { ErrorCode, GatewayError } from '../errors.js';

/**
 * Per-tenant concurrency and rate governor for upstream Graph calls (docs/graph-facts.md#throttling).
 *
 * Graph throttles directory traffic per app+tenant with a token bucket of resource units (RU) per
 * 10 s and a separate budget of writes per 2 min 30 s. Provoking a 429 costs more than waiting: the
 * throttled request still counts, and the Retry-After that follows stalls every caller. So the
 * gateway keeps its own, slightly smaller buckets and queues calls until they fit, and it refuses
 * quickly (THROTTLED with a retry hint) when the wait would be longer than a caller should hang.
 */

export interface GraphGovernorOptions {
  /** Directory RU per 10 s for this app+tenant: 3,500 (< 50 users), 5,000 (50–500), 8,000 (> 500). Default 3,500. */
  resourceUnitsPer10s?: number;
  /** Directory writes per 150 s for this app+tenant (default 3,000). */
  writesPer150s?: number;
  /**
   * Share of the documented limits the gateway uses (default 0.8): other apps of the tenant and
   * Graph's own accounting (429s can come below the limits under load) need room.
   */
  headroom?: number;
  /** Upstream calls in flight at once (default 16). */
  maxConcurrent?: number;
  /** Longest a call may queue for capacity before the caller gets THROTTLED (default 10 s). */
  maxWaitMs?: number;
  /** Injected clock and timers, for deterministic tests. */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface AcquireOptions {
  /** The call writes to the directory (POST/PATCH/PUT/DELETE other than getByIds and `$batch` envelopes). */
  write?: boolean;
  /** Number of directory writes the call carries (a `$batch` can carry several); defaults to 1 when `write`. */
  writes?: number;
  signal?: AbortSignal;
}

/** Held while the call is in flight; `release` frees the concurrency slot (idempotent). */
export interface GovernorPermit {
  release(): void;
}

export interface GovernorSnapshot {
  inFlight: number;
  queued: number;
  resourceUnits: number;
  writes: number;
  pausedForMs: number;
}

export interface GraphGovernor {
  /**
   * Waits until a call costing `cost` RU (and its writes) fits the buckets and a concurrency slot is
   * free. Rejects with GatewayError THROTTLED (with `retryAfterSeconds`) when the wait would exceed
   * `maxWaitMs`, and with the signal's reason when the caller goes away while queued.
   */
  acquire(cost: number, options?: AcquireOptions): Promise<GovernorPermit>;
  /** Graph said 429/503 with Retry-After: hold every call of this tenant until it has passed. */
  pause(retryAfterSeconds: number): void;
  snapshot(): GovernorSnapshot;
  /** Rejects queued calls (shutdown). */
  close(): void;
}

interface Waiter {
  cost: number;
  writes: number;
  resolve: (permit: GovernorPermit) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const READ_WINDOW_MS = 10_000;
const WRITE_WINDOW_MS = 150_000;

export function createGraphGovernor(options: GraphGovernorOptions = {}): GraphGovernor {
  const headroom = options.headroom ?? 0.8;
  const ruLimit = options.resourceUnitsPer10s ?? 3_500;
  const writeLimit = options.writesPer150s ?? 3_000;
  const maxConcurrent = options.maxConcurrent ?? 16;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  for (const [name, value] of Object.entries({ resourceUnitsPer10s: ruLimit, writesPer150s: writeLimit, maxConcurrent })) {
    if (!Number.isFinite(value) || value < 1) throw new Error(`createGraphGovernor: ${name} must be a number >= 1, received ${String(value)}`);
  }
  if (!(headroom > 0 && headroom <= 1)) throw new Error(`createGraphGovernor: headroom must be in (0, 1], received ${String(headroom)}`);
  if (!Number.isFinite(maxWaitMs) || maxWaitMs < 0) throw new Error(`createGraphGovernor: maxWaitMs must be >= 0, received ${String(maxWaitMs)}`);
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms).unref());
  const clearTimer = options.clearTimer ?? ((handle: unknown) => clearTimeout(handle as NodeJS.Timeout));

  const ruCapacity = Math.max(1, Math.floor(ruLimit * headroom));
  const writeCapacity = Math.max(1, Math.floor(writeLimit * headroom));
  const ruPerMs = ruCapacity / READ_WINDOW_MS;
  const writesPerMs = writeCapacity / WRITE_WINDOW_MS;

  let ruTokens = ruCapacity;
  let writeTokens = writeCapacity;
  let refilledAt = now();
  let pausedUntil = 0;
  let inFlight = 0;
  let timer: unknown;
  let closed = false;
  const queue: Waiter[] = [];

  const refill = () => {
    const t = now();
    const elapsed = Math.max(0, t - refilledAt);
    refilledAt = t;
    ruTokens = Math.min(ruCapacity, ruTokens + elapsed * ruPerMs);
    writeTokens = Math.min(writeCapacity, writeTokens + elapsed * writesPerMs);
  };

  /** Time until `cost` RU and `writes` writes are available beyond what queued callers need. */
  const waitFor = (cost: number, writes: number, aheadRu: number, aheadWrites: number): number => {
    const ruDeficit = aheadRu + cost - ruTokens;
    const writeDeficit = aheadWrites + writes - writeTokens;
    const tokenWait = Math.max(ruDeficit > 0 ? ruDeficit / ruPerMs : 0, writeDeficit > 0 ? writeDeficit / writesPerMs : 0);
    return Math.max(tokenWait, pausedUntil - now());
  };

  const makePermit = (): GovernorPermit => {
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        inFlight -= 1;
        pump();
      },
    };
  };

  const detach = (waiter: Waiter) => {
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
  };

  function pump(): void {
    if (timer !== undefined) {
      clearTimer(timer);
      timer = undefined;
    }
    refill();
    while (queue.length > 0 && inFlight < maxConcurrent) {
      const head = queue[0]!;
      const wait = waitFor(head.cost, head.writes, 0, 0);
      if (wait > 0) {
        timer = setTimer(pump, Math.ceil(wait));
        return;
      }
      queue.shift();
      ruTokens -= head.cost;
      writeTokens -= head.writes;
      inFlight += 1;
      detach(head);
      head.resolve(makePermit());
    }
  }

  const throttled = (waitMs: number) =>
    new GatewayError(ErrorCode.THROTTLED, 'The gateway is holding back calls to Microsoft Graph to stay under its rate limits; retry later.', {
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    });

  return {
    acquire(cost, acquireOptions = {}) {
      if (closed) return Promise.reject(new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The gateway is shutting down.', { retryAfterSeconds: 1 }));
      const signal = acquireOptions.signal;
      if (signal?.aborted) return Promise.reject(signal.reason);
      // A call bigger than the bucket could never fit: it waits for a full bucket instead.
      const ru = Math.min(ruCapacity, Math.max(1, Math.ceil(Number.isFinite(cost) ? cost : 1)));
      const writes = Math.min(writeCapacity, Math.max(0, acquireOptions.writes ?? (acquireOptions.write ? 1 : 0)));
      refill();
      const aheadRu = queue.reduce((sum, w) => sum + w.cost, 0);
      const aheadWrites = queue.reduce((sum, w) => sum + w.writes, 0);
      const wait = waitFor(ru, writes, aheadRu, aheadWrites);
      if (wait > maxWaitMs) return Promise.reject(throttled(wait));
      if (wait <= 0 && queue.length === 0 && inFlight < maxConcurrent) {
        ruTokens -= ru;
        writeTokens -= writes;
        inFlight += 1;
        return Promise.resolve(makePermit());
      }
      return new Promise<GovernorPermit>((resolve, reject) => {
        const waiter: Waiter = { cost: ru, writes, resolve, reject, signal, onAbort: undefined };
        if (signal) {
          waiter.onAbort = () => {
            const index = queue.indexOf(waiter);
            if (index >= 0) queue.splice(index, 1);
            reject(signal.reason);
            pump();
          };
          signal.addEventListener('abort', waiter.onAbort, { once: true });
        }
        queue.push(waiter);
        pump();
      });
    },
    pause(retryAfterSeconds) {
      if (!Number.isFinite(retryAfterSeconds) || retryAfterSeconds <= 0) return;
      pausedUntil = Math.max(pausedUntil, now() + retryAfterSeconds * 1000);
      const pauseMs = pausedUntil - now();
      if (pauseMs > maxWaitMs) {
        // Nobody queued would get through in time: tell them now rather than at the deadline.
        for (const waiter of queue.splice(0)) {
          detach(waiter);
          waiter.reject(throttled(pauseMs));
        }
      }
      pump();
    },
    snapshot() {
      refill();
      return {
        inFlight,
        queued: queue.length,
        resourceUnits: Math.floor(ruTokens),
        writes: Math.floor(writeTokens),
        pausedForMs: Math.max(0, pausedUntil - now()),
      };
    },
    close() {
      closed = true;
      if (timer !== undefined) clearTimer(timer);
      timer = undefined;
      for (const waiter of queue.splice(0)) {
        detach(waiter);
        waiter.reject(new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The gateway is shutting down.', { retryAfterSeconds: 1 }));
      }
    },
  };
}

/** One governor per tenant: Graph's directory limits are per app+tenant. */
export interface GraphGovernorRegistry {
  forTenant(tenantId: string): GraphGovernor;
  close(): void;
}

export function createGraphGovernorRegistry(options: GraphGovernorOptions = {}): GraphGovernorRegistry {
  const governors = new Map<string, GraphGovernor>();
  return {
    forTenant(tenantId) {
      const key = tenantId.toLowerCase();
      let governor = governors.get(key);
      if (!governor) {
        governor = createGraphGovernor(options);
        governors.set(key, governor);
      }
      return governor;
    },
    close() {
      for (const governor of governors.values()) governor.close();
      governors.clear();
    },
  };
}

/** What the governor needs to know of one Graph call (a `$batch` item or a plain request). */
export interface CostedCall {
  method: string;
  /** Route template, e.g. `/users`, `/users/{id}/manager`, `/directoryObjects/getByIds`. */
  template: string;
  query?: Record<string, string | undefined>;
}

export interface CallCost {
  resourceUnits: number;
  writes: number;
}

const READ_POSTS = new Set(['/directoryObjects/getByIds', '/directoryObjects/getObjectsById', '/$batch']);

/**
 * Resource units of one call, per docs/graph-facts.md#throttling: `GET users` 2; `groups/{id}/members` 3
 * (`transitiveMembers` 5); `getByIds` 5, or 2 with `$select`; other GETs 1; writes 1 RU + 1 write;
 * `$select` −1, `$expand` +1, `$top` < 20 −1, never below 1.
 */
export function resourceUnitCost(call: CostedCall): CallCost {
  const method = call.method.toUpperCase();
  const template = call.template.replace(/^\/(v1\.0|beta)(?=\/)/, '');
  const query = call.query ?? {};
  const has = (name: string) => query[name] !== undefined && query[name] !== '';
  if (method !== 'GET' && !READ_POSTS.has(template)) return { resourceUnits: 1, writes: 1 };
  if (/\/getByIds$|\/getObjectsById$/.test(template)) return { resourceUnits: has('$select') ? 2 : 5, writes: 0 };
  let base = 1;
  if (template === '/users') base = 2;
  else if (/^\/groups\/\{[^}]+\}\/transitiveMembers/.test(template)) base = 5;
  else if (/^\/groups\/\{[^}]+\}\/members/.test(template)) base = 3;
  let cost = base;
  if (has('$select')) cost -= 1;
  if (has('$expand')) cost += 1;
  const top = Number(query.$top);
  if (has('$top') && Number.isFinite(top) && top < 20) cost -= 1;
  return { resourceUnits: Math.max(1, cost), writes: 0 };
}

/** A `$batch` costs what its items cost: Graph evaluates each item against the limits on its own. */
export function batchResourceUnitCost(items: CostedCall[]): CallCost {
  return items.reduce<CallCost>(
    (sum, item) => {
      const cost = resourceUnitCost(item);
      return { resourceUnits: sum.resourceUnits + cost.resourceUnits, writes: sum.writes + cost.writes };
    },
    { resourceUnits: 0, writes: 0 },
  );
}

/**
 * Cost of a call as the transport sees it: a plain request, or a `$batch` envelope whose body
 * carries relative item URLs (`/users/{id}/manager?$select=id`). Ids in item URLs are reduced to
 * `{id}` so they price like their route template.
 */
export function costOfOutgoingCall(call: CostedCall & { body?: unknown }): CallCost {
  if (call.method.toUpperCase() === 'POST' && /(^|\/)\$batch$/.test(call.template)) {
    const items = (call.body as { requests?: Array<{ method?: unknown; url?: unknown }> } | undefined)?.requests ?? [];
    return batchResourceUnitCost(
      items.map((item) => {
        const url = new URL(String(item.url ?? '/'), 'https://graph.invalid');
        const segments = url.pathname.split('/').filter(Boolean);
        // Collection names and well-known actions stay; anything else in an id position is an id.
        const template = `/${segments.map((segment, index) => (index % 2 === 1 && !/^(getByIds|getObjectsById|\$ref|\$count|delta)$/.test(segment) ? '{id}' : segment)).join('/')}`;
        const query: Record<string, string> = {};
        url.searchParams.forEach((value, name) => {
          query[name] = value;
        });
        return { method: typeof item.method === 'string' ? item.method : 'GET', template, query };
      }),
    );
  }
  return resourceUnitCost(call);
}
