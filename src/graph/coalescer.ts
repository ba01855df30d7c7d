/**
 * Cross-request coalescing (docs/reliability.md#cross-request-coalescing): lookups that arrive from different GraphQL operations within
 * a short window share one upstream call (`getByIds` or `$batch`), but only when they act under the
 * same Graph identity. A DataLoader batches within one operation; this batches across operations.
 *
 * Guarantees, each pinned by test/graph/coalescer.test.ts:
 * - Identities never mix: pending lookups are partitioned by the identity string the caller gives
 *   (app-only: one shared identity; on-behalf-of and delegated callers: one per caller token), and a
 *   dispatch only ever carries one identity's keys. Identical keys are shared only within an identity.
 * - Bounded delay: the first lookup of a batch waits at most `windowMs` (at most 10 ms) for company; a
 *   full batch (`maxBatchSize`) leaves at once.
 * - A lone lookup does not wait: the window is waited for only when company is expected, that is when
 *   a dispatch of the same identity is still out (concurrent operations are being served), the
 *   last dispatch of the identity carried several keys (lookups have been arriving together), or
 *   the owner says other work is under way (`othersBusy`: the gateway's other operations in flight).
 *   Otherwise the batch leaves on the next macrotask (`setImmediate`), which still gathers every
 *   lookup that arrives in the same turn of the event loop. After a burst ends, at most one lookup
 *   per identity waits the window in vain: its dispatch carries one key, which clears the hint.
 * - Errors stay with the request that caused them: a per-key failure (an `Error` in the dispatch's
 *   answer) rejects only that key's callers; a whole-dispatch failure of a batch with several keys is
 *   retried key by key, so one caller's bad key cannot fail the others' lookups.
 */

export type CoalescedDispatch<K, V> = (identity: string, keys: readonly K[]) => Promise<ReadonlyArray<V | Error>>;

export interface CoalescerOptions<K, V> {
  /**
   * Longest wait of a batch's first lookup for others to join, in ms, when company is expected
   * (0 = the next macrotask only). A lookup that expects none leaves on the next macrotask.
   */
  windowMs: number;
  /** Most keys in one dispatch (e.g. 1000 for getByIds, 20 for $batch). */
  maxBatchSize: number;
  /** One upstream call for one identity; answers per key, in the order of `keys`. */
  dispatch: CoalescedDispatch<K, V>;
  /** Identity of a key for sharing identical lookups (default: `String(key)`). */
  keyOf?: (key: K) => string;
  /** Injected timer, so tests need no clock. */
  schedule?: (run: () => void, delayMs: number) => { cancel(): void };
  /**
   * Whether other work that may look users up is under way (e.g. other GraphQL operations in
   * flight): then a new batch waits the window even if no lookup of its identity is out yet.
   */
  othersBusy?: () => boolean;
}

interface Waiter<V> {
  resolve(value: V): void;
  reject(error: Error): void;
}

interface PendingBatch<K, V> {
  identity: string;
  keys: K[];
  /** keyOf(key) -> index in keys and who waits for it. */
  waiters: Map<string, { index: number; waiters: Array<Waiter<V>> }>;
  timer?: { cancel(): void };
}

export const MAX_COALESCING_WINDOW_MS = 10;

/** Identities whose last dispatch had company, remembered at most (a hint: forgetting one costs nothing). */
const MAX_COMPANY_HINTS = 1024;

const defaultSchedule = (run: () => void, delayMs: number) => {
  const handle = delayMs <= 0 ? setImmediate(run) : setTimeout(run, delayMs);
  return { cancel: () => (delayMs <= 0 ? clearImmediate(handle as NodeJS.Immediate) : clearTimeout(handle as NodeJS.Timeout)) };
};

export class Coalescer<K, V> {
  private readonly pending = new Map<string, PendingBatch<K, V>>();
  /** Dispatches out per identity (entries removed at 0). */
  private readonly inFlight = new Map<string, number>();
  /** Identities whose last dispatch carried more than one key. */
  private readonly hadCompany = new Set<string>();
  private readonly windowMs: number;
  private readonly maxBatchSize: number;
  private readonly dispatchFn: CoalescedDispatch<K, V>;
  private readonly keyOf: (key: K) => string;
  private readonly schedule: NonNullable<CoalescerOptions<K, V>['schedule']>;
  private readonly othersBusy: () => boolean;

  constructor(options: CoalescerOptions<K, V>) {
    if (!(Number.isFinite(options.windowMs) && options.windowMs >= 0 && options.windowMs <= MAX_COALESCING_WINDOW_MS)) {
      throw new RangeError(
        `Coalescer windowMs must be 0 to ${MAX_COALESCING_WINDOW_MS} ms (a lone lookup waits that long at most), received ${String(options.windowMs)}`,
      );
    }
    if (!(Number.isInteger(options.maxBatchSize) && options.maxBatchSize >= 1)) {
      throw new RangeError(`Coalescer maxBatchSize must be a positive integer, received ${String(options.maxBatchSize)}`);
    }
    if (typeof options.dispatch !== 'function') throw new TypeError(`Coalescer dispatch must be a function, received ${typeof options.dispatch}`);
    this.windowMs = options.windowMs;
    this.maxBatchSize = options.maxBatchSize;
    this.dispatchFn = options.dispatch;
    this.keyOf = options.keyOf ?? ((key) => String(key));
    this.schedule = options.schedule ?? defaultSchedule;
    this.othersBusy = options.othersBusy ?? (() => false);
  }

  /** Looks `key` up under `identity`, sharing the upstream call with concurrent lookups of the same identity. */
  load(identity: string, key: K): Promise<V> {
    if (typeof identity !== 'string' || identity.length === 0) {
      return Promise.reject(new TypeError('Coalescer.load needs the Graph identity the lookup acts under (a non-empty string)'));
    }
    return new Promise<V>((resolve, reject) => {
      let batch = this.pending.get(identity);
      if (!batch) {
        const fresh: PendingBatch<K, V> = { identity, keys: [], waiters: new Map() };
        fresh.timer = this.schedule(() => this.flush(fresh), this.expectsCompany(identity) ? this.windowMs : 0);
        this.pending.set(identity, fresh);
        batch = fresh;
      }
      const id = this.keyOf(key);
      const entry = batch.waiters.get(id);
      if (entry) entry.waiters.push({ resolve, reject });
      else {
        batch.waiters.set(id, { index: batch.keys.length, waiters: [{ resolve, reject }] });
        batch.keys.push(key);
      }
      if (batch.keys.length >= this.maxBatchSize) this.flush(batch);
    });
  }

  /** Whether a new batch of `identity` should wait the window: other lookups are in flight or have been arriving together. */
  private expectsCompany(identity: string): boolean {
    return this.inFlight.has(identity) || this.hadCompany.has(identity) || this.othersBusy();
  }

  /** Lookups waiting for their batch to leave, per identity (for metrics and tests). */
  pendingCount(): number {
    let n = 0;
    for (const batch of this.pending.values()) n += batch.keys.length;
    return n;
  }

  private flush(batch: PendingBatch<K, V>): void {
    // A batch leaves once: either its timer or reaching the size limit, whichever comes first.
    if (this.pending.get(batch.identity) !== batch) return;
    this.pending.delete(batch.identity);
    batch.timer?.cancel();
    const identity = batch.identity;
    if (batch.keys.length > 1) {
      if (this.hadCompany.size >= MAX_COMPANY_HINTS && !this.hadCompany.has(identity)) this.hadCompany.clear();
      this.hadCompany.add(identity);
    } else this.hadCompany.delete(identity);
    void this.send(identity, batch.keys, batch.waiters, true);
  }

  /** One upstream call, counted as in flight until it answers (before its callers hear the answer). */
  private async dispatch(identity: string, keys: K[]): Promise<ReadonlyArray<V | Error>> {
    this.inFlight.set(identity, (this.inFlight.get(identity) ?? 0) + 1);
    try {
      return await this.dispatchFn(identity, keys);
    } finally {
      const left = (this.inFlight.get(identity) ?? 1) - 1;
      if (left > 0) this.inFlight.set(identity, left);
      else this.inFlight.delete(identity);
    }
  }

  private async send(identity: string, keys: K[], waiters: PendingBatch<K, V>['waiters'], mayRetrySingly: boolean): Promise<void> {
    let answers: ReadonlyArray<V | Error>;
    try {
      answers = await this.dispatch(identity, keys);
      if (!Array.isArray(answers) || answers.length !== keys.length) {
        throw new Error(`coalesced dispatch answered ${Array.isArray(answers) ? answers.length : typeof answers} results for ${keys.length} keys`);
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (mayRetrySingly && keys.length > 1) {
        // Whose key failed the whole call is unknown: ask for each alone, so the failure lands on its owner.
        await Promise.all(
          keys.map((key) => {
            const id = this.keyOf(key);
            const entry = waiters.get(id)!;
            return this.send(identity, [key], new Map([[id, { index: 0, waiters: entry.waiters }]]), false);
          }),
        );
        return;
      }
      for (const entry of waiters.values()) for (const w of entry.waiters) w.reject(failure);
      return;
    }
    for (const entry of waiters.values()) {
      const answer = answers[entry.index] as V | Error;
      for (const w of entry.waiters) {
        if (answer instanceof Error) w.reject(answer);
        else w.resolve(answer);
      }
    }
  }
}
