/**
 * Queues `item` in arrival order within its class, priority items (calls that write to the
 * directory: src/graph/rate-limiter.ts says why) ahead of every other. One rule for the rate
 * limiter's queue and the concurrency gate's, so both serve calls in the same order.
 */
export function enqueueByPriority<T extends { readonly priority: boolean }>(queue: T[], item: T): void {
  const firstOrdinary = item.priority ? queue.findIndex((queued) => !queued.priority) : -1;
  if (firstOrdinary < 0) queue.push(item);
  else queue.splice(firstOrdinary, 0, item);
}
