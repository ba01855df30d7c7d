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

export function suggestionMaskPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) rewriteErrorText(error, withoutSuggestions);
        },
      };
    },
  };
}
