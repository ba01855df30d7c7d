/**
 * An amount of memory held at once by all callers (request-body bytes, answer values), handed out
 * with a share per caller so that one caller cannot hold what everyone needs: the rule of the
 * request-body budget (src/http/request-body.ts) and of the answers in flight
 * (src/graphql/budget/answers-in-flight.ts), which differ only in what they count.
 */
export type ReserveOutcome = 'taken' | 'budget-spent' | 'share-spent';

export interface CallerShare {
  /** Takes `amount` if it fits; otherwise takes nothing and says which bound it did not fit. */
  reserve(amount: number): ReserveOutcome;
  release(amount: number): void;
}

export interface SharedBudget {
  /**
   * The budget as one caller sees it: `caller` names the caller's identity, never its credential;
   * undefined, the budget of all callers alone (one caller who is everyone).
   */
  forCaller(caller: string | undefined): CallerShare;
  /** What is held now, for tests and metrics. */
  inUse(): number;
}

export interface SharedBudgetOptions {
  /** What all callers may hold together. */
  max: number;
  /** What one caller may hold (default: `max`). */
  perCaller?: number;
  /** Amounts up to this are counted but always taken (default 0: none). */
  alwaysTakenUpTo?: number;
  /** Told of every refusal and which bound refused it (metrics); must not throw. */
  onRefused?: (outcome: RefusedOutcome) => void;
}

export type RefusedOutcome = Exclude<ReserveOutcome, 'taken'>;

export function createSharedBudget(options: SharedBudgetOptions): SharedBudget {
  const { max, perCaller = max, alwaysTakenUpTo = 0, onRefused } = options;
  if (!Number.isInteger(max) || max < 1) throw new Error(`createSharedBudget: max must be an integer >= 1, received ${String(max)}`);
  if (!Number.isInteger(perCaller) || perCaller < 1) throw new Error(`createSharedBudget: perCaller must be an integer >= 1, received ${String(perCaller)}`);
  let inUse = 0;
  // Only callers holding something have an entry: the map is bounded by what is in progress.
  const held = new Map<string, number>();
  return {
    inUse: () => inUse,
    forCaller(caller) {
      return {
        reserve(amount) {
          const mine = caller === undefined ? 0 : (held.get(caller) ?? 0);
          const always = amount <= alwaysTakenUpTo;
          const refused: RefusedOutcome | undefined = always
            ? undefined
            : caller !== undefined && mine + amount > perCaller
              ? 'share-spent'
              : inUse + amount > max
                ? 'budget-spent'
                : undefined;
          if (refused) {
            onRefused?.(refused);
            return refused;
          }
          inUse += amount;
          if (caller !== undefined) held.set(caller, mine + amount);
          return 'taken';
        },
        release(amount) {
          if (amount <= 0) return;
          inUse = Math.max(0, inUse - amount);
          if (caller === undefined) return;
          const left = (held.get(caller) ?? 0) - amount;
          if (left > 0) held.set(caller, left);
          else held.delete(caller);
        },
      };
    },
  };
}
