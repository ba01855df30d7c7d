import type { ApolloServerPlugin } from '@apollo/server';
import Negotiator from 'negotiator';

/**
 * The media types a single-result answer may have, in Apollo Server's order of preference
 * (`MEDIA_TYPES` and `chooseContentTypeForSingleResultResponse` in @apollo/server 5, not exported): JSON first, then the GraphQL
 * over HTTP type, then Apollo's callback type.
 */
const SINGLE_RESULT_TYPES = [
  'application/json; charset=utf-8',
  'application/graphql-response+json; charset=utf-8',
  'application/json; callbackSpec=1.0; charset=utf-8',
];

/** Distinct `Accept` values remembered; clients send a handful, a stranger's variations are not kept past this. */
const MAX_REMEMBERED = 64;
/** A longer `Accept` is negotiated every time rather than remembered. */
const MAX_REMEMBERED_LENGTH = 256;

/**
 * Chooses the answer's Content-Type from the request's `Accept` once per distinct header value,
 * where Apollo Server negotiates it for every request (a new Negotiator parsing the header each
 * time: ~3.5 % of a single lookup's CPU in the benchmark's profile, docs/benchmark.md). The choice
 * is Apollo's own: the same library, the same candidates in the same order, and no header set when
 * nothing is acceptable, so Apollo still answers that request 406. Apollo keeps a Content-Type set
 * on the response head (runHttpQuery) and overrides it for incremental delivery.
 */
export function answerMediaTypePlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  const chosen = new Map<string, string | undefined>();
  const choose = (accept: string): string | undefined => {
    if (chosen.has(accept)) return chosen.get(accept);
    const preferred = new Negotiator({ headers: { accept } }).mediaType(SINGLE_RESULT_TYPES);
    if (accept.length <= MAX_REMEMBERED_LENGTH) {
      if (chosen.size >= MAX_REMEMBERED) chosen.delete(chosen.keys().next().value!);
      chosen.set(accept, preferred);
    }
    return preferred;
  };
  return {
    async requestDidStart({ request, response }) {
      const accept = request.http?.headers.get('accept');
      // No Accept: Apollo's answer is JSON without negotiating; nothing to save.
      if (!accept) return;
      const type = choose(accept);
      if (type !== undefined) response.http.headers.set('content-type', type);
    },
  };
}
