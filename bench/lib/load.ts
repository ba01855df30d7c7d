/**
 * Closed-loop load: `concurrency` workers each run the next operation as soon as their last one
 * ends, until `maxOps` operations have started or the time budget is spent, but not before `minOps`
 * have started (a cell needs enough samples for its percentiles). Every bound holds, so a stuck
 * contender cannot hold the run (each operation also has a timeout).
 */
export interface LoadOptions {
  concurrency: number;
  maxOps: number;
  budgetMs: number;
  /** Operations started even when the budget is spent (at most `maxOps`); default 0. */
  minOps?: number;
  /** A single operation slower than this counts as failed (and the run moves on). */
  opTimeoutMs?: number;
}

export interface LoadResult {
  latenciesMs: number[];
  ops: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
}

export async function runLoad(operation: (i: number) => Promise<void>, options: LoadOptions): Promise<LoadResult> {
  const { concurrency, maxOps, budgetMs } = options;
  const minOps = Math.min(options.minOps ?? 0, maxOps);
  if (!(concurrency >= 1 && maxOps >= 1 && budgetMs > 0)) throw new RangeError('concurrency and maxOps must be at least 1 and budgetMs positive');
  const opTimeoutMs = options.opTimeoutMs ?? 30_000;
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const start = performance.now();
  const deadline = start + budgetMs;

  const withTimeout = (i: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`operation timed out after ${opTimeoutMs} ms`)), opTimeoutMs);
    });
    return Promise.race([operation(i), timeout]).finally(() => clearTimeout(timer));
  };

  const worker = async () => {
    while (next < maxOps && (next < minOps || performance.now() < deadline)) {
      const i = next++;
      const t0 = performance.now();
      try {
        await withTimeout(i);
        latenciesMs.push(performance.now() - t0);
      } catch (error) {
        errors += 1;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, maxOps) }, worker));
  return { latenciesMs, ops: latenciesMs.length + errors, errors, ...(firstError ? { firstError } : {}), elapsedMs: performance.now() - start };
}
