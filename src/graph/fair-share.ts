/**
 * Start-time fair queuing (Goyal, Vin and Cheng, 1996) of the calls waiting for the rate governor's
 * buckets, by caller. Without it the queue was first in, first out across callers: one API key
 * holding only `Users.Read`, running 14 operations of 45 aliased lookups at once, made another
 * caller's one-request query wait 12.4 s behind its calls (docs/reliability.md#fair-share-between-callers).
 *
 * Each waiting call gets a start tag: the larger of the virtual time (the tag of the call served
 * last) and the finish tag of its caller's previous waiting call; its finish tag is the start plus
 * its cost in resource units. The queue is served in start-tag order, so a caller with a long
 * backlog has its calls tagged further and further ahead, and a newcomer's call is tagged at the
 * virtual time: it goes behind at most one call of each other caller's backlog, whatever their
 * length. A caller alone is served exactly as before (tags in arrival order).
 *
 * Hand-written: the libraries of fair queuing on npm schedule promises by weight or concurrency
 * (p-queue has priorities, not per-key fairness), and the tags have to live inside the limiter's
 * own queue, beside its token buckets and write lane.
 */
export class FairShare {
  private virtualTime = 0;
  /** Finish tag of each caller's last tagged call; entries at or below the virtual time mean nothing and are pruned. */
  private readonly finishTags = new Map<string, number>();

  /** The start tag a call of `caller` would get now (nothing is recorded until `queued`). */
  startTag(caller: string): number {
    return Math.max(this.virtualTime, this.finishTags.get(caller) ?? 0);
  }

  /** Records that a call of `caller` was queued with `start` and `cost`. */
  queued(caller: string, start: number, cost: number): void {
    this.finishTags.set(caller, start + cost);
  }

  /** A call tagged `start` is served: the virtual time moves to it. */
  served(start: number): void {
    if (start <= this.virtualTime) return;
    this.virtualTime = start;
    // Bounded by the callers with calls still waiting: the others' tags no longer matter.
    for (const [caller, finish] of this.finishTags) if (finish <= this.virtualTime) this.finishTags.delete(caller);
  }
}
