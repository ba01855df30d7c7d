import type { GraphTokenSource } from './types.js';

/** An access token and when it stops being valid (ms since epoch). */
export interface AcquiredToken {
  accessToken: string;
  expiresAt: number;
}

/** msal's own renewal offset: renew this long before expiry. */
export const RENEW_BEFORE_MS = 300_000;

/**
 * One cached access token with single-flight acquisition: while a token is missing or due for
 * renewal, every concurrent caller awaits the same acquisition (msal does not coalesce client
 * credential requests: 40 concurrent calls made 10 token requests). A caller's abort signal stops
 * its own wait, never the shared acquisition.
 */
export class TokenSlot {
  private current: (AcquiredToken & { obtainedAt: number }) | undefined;
  private inFlight: Promise<AcquiredToken> | undefined;
  private generation = 0;

  constructor(
    private readonly acquire: (forceRefresh: boolean, rejectedToken?: string) => Promise<AcquiredToken>,
    private readonly now: () => number = Date.now,
  ) {}

  async get(signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    const cached = this.current;
    if (cached && !this.isDue(cached)) return cached.accessToken;
    const shared = this.inFlight ?? this.start(this.forceNext);
    const token = signal ? await raceAbort(shared, signal) : await shared;
    return token.accessToken;
  }

  private forceNext = false;
  private rejected: string | undefined;

  /** Drops the cached token; the next acquisition bypasses msal's cache too (Graph said 401). */
  invalidate(): void {
    // Nothing cached means nothing to distrust: the next acquisition is an ordinary one.
    if (!this.current) return;
    this.rejected = this.current.accessToken;
    this.current = undefined;
    this.forceNext = true;
    this.generation += 1;
  }

  /** Drops the cached token without forcing the next acquisition past msal's cache (new sign-in). */
  clear(): void {
    this.current = undefined;
    this.generation += 1;
  }

  private isDue(token: AcquiredToken & { obtainedAt: number }): boolean {
    const left = token.expiresAt - this.now();
    // Short-lived tokens (emulator tests) renew at half-life rather than never counting as fresh.
    return left <= Math.min(RENEW_BEFORE_MS, (token.expiresAt - token.obtainedAt) / 2);
  }

  private start(force: boolean): Promise<AcquiredToken> {
    const rejected = this.rejected;
    this.forceNext = false;
    this.rejected = undefined;
    const generation = this.generation;
    const obtainedAt = this.now();
    const promise = this.acquire(force, rejected).then((token) => {
      if (this.generation === generation) this.current = { ...token, obtainedAt };
      return token;
    });
    this.inFlight = promise;
    const clear = () => {
      if (this.inFlight === promise) this.inFlight = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }
}

/** The Graph token source a slot serves, under one cache partition (see GraphTokenSource). */
export function slotTokenSource(partition: string, slot: TokenSlot): GraphTokenSource {
  return {
    partition,
    getAccessToken: (signal?: AbortSignal) => slot.get(signal),
    invalidate: () => slot.invalidate(),
  };
}

/** A readiness probe for an identity with one token source: ready when a token can be had now. */
export function tokenProbe(source: GraphTokenSource): (signal?: AbortSignal) => Promise<boolean> {
  return (signal) =>
    source.getAccessToken(signal).then(
      () => true,
      () => false,
    );
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
