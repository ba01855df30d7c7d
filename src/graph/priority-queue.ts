/**
 * Queues `item` in arrival order within its class, priority items (calls that write to the
 * directory: src/graph/rate-limiter.ts says why) ahead of every other. The concurrency gate's rule
 * (src/graph/concurrency-gate.ts); the rate limiter orders its queue by `fairInsertionIndex`, which
 * keeps the same two classes.
 */
export function enqueueByPriority<T extends { readonly priority: boolean }>(queue: T[], item: T): void {
  const firstOrdinary = item.priority ? queue.findIndex((queued) => !queued.priority) : -1;
  if (firstOrdinary < 0) queue.push(item);
  else queue.splice(firstOrdinary, 0, item);
}

/**
 * Where `item` goes in a queue kept in the order of `enqueueByPriority`'s two classes and, within
 * each, by `start` (a start-time fair queuing tag: src/graph/fair-share.ts), after the items of
 * equal tag (arrival order among equals).
 */
export function fairInsertionIndex<T extends { readonly priority: boolean; readonly start: number }>(queue: readonly T[], item: T): number {
  let index = 0;
  // Priority items first: an ordinary item goes after all of them; a priority item before every ordinary one.
  while (index < queue.length && queue[index]!.priority && (!item.priority || queue[index]!.start <= item.start)) index++;
  if (item.priority) return index;
  while (index < queue.length && queue[index]!.start <= item.start) index++;
  return index;
}
