import type { ApolloServerPlugin } from '@apollo/server';
import type { Caller } from '../../identity/types.js';
import { forbiddenError, missingPermissions } from './requirements.js';

/**
 * Refuses a whole operation with FORBIDDEN before execution when it selects a privileged field
 * the caller may not use, so a document mixing allowed and forbidden fields sends nothing
 * upstream. Runs after validation, so it composes with the deployment rule: a hosted gateway
 * answers UNSUPPORTED_DEPLOYMENT_MODE first, whatever the caller holds.
 *
 * Not a validation rule on purpose: Apollo caches validated documents across callers, and the
 * answer here depends on the caller.
 */
export interface PermissionPluginOptions {
  /** Defaults to `contextValue.caller`. */
  callerOf?: (contextValue: unknown) => Pick<Caller, 'permissions'> | undefined;
}

export function permissionPlugin<TContext extends object>(options: PermissionPluginOptions = {}): ApolloServerPlugin<TContext> {
  const callerOf = options.callerOf ?? ((ctx: unknown) => (ctx as { caller?: Caller }).caller);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          if (!rc.operation) return;
          const caller = callerOf(rc.contextValue) ?? { permissions: new Set() };
          const missing = missingPermissions(rc.schema, rc.document, rc.operation, caller);
          if (missing.length > 0) throw forbiddenError(missing);
        },
      };
    },
  };
}
