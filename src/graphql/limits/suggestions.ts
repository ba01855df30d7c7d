import type { ApolloServerPlugin } from '@apollo/server';
import { rewriteErrorText } from '../error-text.js';

/**
 * With introspection off, graphql-js's "Did you mean ...?" hints would hand out the schema one
 * name at a time: fields, arguments, input fields, types, enum values ("Did you mean the enum value
 * "ASC"?") and fragment targets ("Did you mean to use an inline fragment on "PhoneAuthenticationMethod"?").
 * graphql-armor's mask only knows the first form, so the whole sentence is removed here, from
 * validation and variable-coercion errors alike (and from the errors they wrap, which get logged).
 * GraphQL names contain no `?`, so the sentence ends at the first one.
 */
const SUGGESTION = /\s*Did you mean\b[^?]*\?/g;

export function withoutSuggestions(text: string): string {
  return text.replace(SUGGESTION, '');
}

/**
 * Apollo Server's own refusal of `__schema`/`__type` names the library behind the gateway and tells
 * whoever asked how to reconfigure it ("pass introspection: true to ApolloServer in production"):
 * advice for the operator, and a fingerprint for anyone else. The caller gets the gateway's sentence
 * (docs/security.md#secrets-never-leave).
 */
const APOLLO_NO_INTROSPECTION =
  /GraphQL introspection is not allowed by Apollo Server, but the query contained __schema or __type\. To enable introspection, pass introspection: true to ApolloServer in production/g;
export const INTROSPECTION_OFF = 'Introspection is off on this gateway: an operation may not select __schema or __type.';

/** An error text as a caller of a gateway with introspection off may read it. */
export function forIntrospectionOff(text: string): string {
  return withoutSuggestions(text).replace(APOLLO_NO_INTROSPECTION, INTROSPECTION_OFF);
}

export function suggestionMaskPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) rewriteErrorText(error, forIntrospectionOff);
        },
      };
    },
  };
}
