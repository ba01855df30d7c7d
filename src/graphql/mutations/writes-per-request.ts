import { ErrorCode, GatewayError } from '../../errors.js';
import type { GraphUsersClient } from '../../graph/api.js';
import { createGraphWrites, type GraphPrimitives, type GraphWrites } from '../../graph/writes.js';
import type { GatewayContext } from '../context.js';

export interface MutationResolverOptions {
  /** Graph endpoint without version, e.g. `https://graph.microsoft.com` (used in `@odata.id` references). */
  graphEndpoint: string;
  /** Upper bound for following an on-premises password reset (default 60 s). */
  passwordResetTimeoutMs?: number;
  /** Wait between polls when Graph gives no Retry-After (default 1 s). */
  pollIntervalMs?: number;
}

/** The domain writes (src/graph/writes.ts) of one request, bound to its Graph client. */
export type WritesOf = (ctx: GatewayContext) => GraphWrites;

/** The request's Graph client offers the two calls writes are made of (a context built by hand may not). */
function hasWritePrimitives(graph: GraphUsersClient): graph is GraphUsersClient & GraphPrimitives {
  return 'request' in graph && typeof graph.request === 'function' && 'batch' in graph && typeof graph.batch === 'function';
}

/** One GraphWrites per request, built on first use from the request's Graph client. */
export function perRequestWrites(options: MutationResolverOptions): WritesOf {
  const writesByContext = new WeakMap<object, GraphWrites>();
  return (ctx) => {
    let writes = writesByContext.get(ctx);
    if (!writes) {
      const graph = ctx.graph;
      if (!hasWritePrimitives(graph)) {
        throw new GatewayError(ErrorCode.INTERNAL_SERVER_ERROR, 'The Graph client of this request offers no write primitives.');
      }
      writes = createGraphWrites({
        graph,
        graphEndpoint: options.graphEndpoint,
        ...(options.passwordResetTimeoutMs !== undefined ? { passwordResetTimeoutMs: options.passwordResetTimeoutMs } : {}),
        ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
      });
      writesByContext.set(ctx, writes);
    }
    return writes;
  };
}
