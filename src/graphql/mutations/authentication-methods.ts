import type { GraphQLResolveInfo } from 'graphql';
import { ErrorCode, GatewayError, badInput } from '../../errors.js';
import type { AuthenticationMethodType, MutationResolvers } from '../../generated/graphql.js';
import type { GatewayContext } from '../context.js';
import { deletableAuthMethodKind } from '../resolvers/authentication-methods.js';
import { normalizeUserKey } from '../user-id.js';
import { auditedSingle } from './audited-write.js';
import type { WritesOf } from './writes-per-request.js';

/**
 * The range Graph's pages give lifetimeInMinutes (docs/graph-facts.md#temporary-access-pass). The
 * tenant's policy narrows it (Entra's default: 60 to 480), which only Graph knows: a value inside
 * this range but outside the policy is Graph's 400, passed on as BAD_USER_INPUT.
 */
const TAP_MIN_MINUTES = 10;
const TAP_MAX_MINUTES = 43_200;

/** `deleteAuthenticationMethod`, `createTemporaryAccessPass` and `deleteTemporaryAccessPass`. */
export function authenticationMethodMutations(writesOf: WritesOf): MutationResolvers {
  const deleteMethod = (target: string, type: AuthenticationMethodType, methodId: string, ctx: GatewayContext, info: GraphQLResolveInfo) =>
    auditedSingle(
      ctx,
      info,
      {
        target,
        // Removing an administrator's MFA methods opens their account to whoever holds or sets its
        // password; removing a pass takes a credential away and grants none, like containment.
        ...(type === 'TEMPORARY_ACCESS_PASS' ? {} : { takeover: true as const }),
        check: () => {
          const user = normalizeUserKey(target, 'user');
          const kind = deletableAuthMethodKind(type);
          if (!kind) {
            // QR code PIN is listed but not deletable here (docs/mutations.md).
            const why = type === 'PASSWORD' ? ' (reset the password instead)' : ' through the gateway';
            throw badInput(`Authentication methods of type ${type} cannot be deleted${why}.`);
          }
          return { user, kind };
        },
      },
      `DELETE_${type}_METHOD`,
      ({ user, kind }) => writesOf(ctx).deleteAuthMethod(user, kind, methodId),
      ({ user }, _v, requestId) => ({
        userKey: user,
        type,
        methodId,
        requestId: requestId ?? null,
      }),
    );

  return {
    deleteAuthenticationMethod: async (_p, { input }, ctx, info) => deleteMethod(input.user, input.type, input.methodId, ctx, info),

    deleteTemporaryAccessPass: async (_p, { input }, ctx, info) => deleteMethod(input.user, 'TEMPORARY_ACCESS_PASS', input.methodId, ctx, info),

    createTemporaryAccessPass: async (_p, { input }, ctx, info) => {
      // Only what the caller gave is sent: Graph fills the rest from the tenant's Temporary Access Pass
      // policy (its default lifetime; one-time use where it enforces it). A default of ours would be
      // refused by tenants whose policy excludes it (docs/graph-facts.md#temporary-access-pass).
      const lifetimeInMinutes = input.lifetimeInMinutes ?? undefined;
      const isUsableOnce = input.isUsableOnce ?? undefined;
      const check = () => {
        const user = normalizeUserKey(input.user, 'user');
        if (
          lifetimeInMinutes !== undefined &&
          (!Number.isInteger(lifetimeInMinutes) || lifetimeInMinutes < TAP_MIN_MINUTES || lifetimeInMinutes > TAP_MAX_MINUTES)
        ) {
          throw badInput(`\`lifetimeInMinutes\` must be between ${TAP_MIN_MINUTES} and ${TAP_MAX_MINUTES}; received ${lifetimeInMinutes}.`, {
            argument: 'lifetimeInMinutes',
          });
        }
        return user;
      };
      return auditedSingle(
        ctx,
        info,
        // The pass signs in as the user: for an administrator, a takeover.
        { target: input.user, check, takeover: true },
        'CREATE_TEMPORARY_ACCESS_PASS',
        (user) =>
          writesOf(ctx).createTemporaryAccessPass(user, {
            ...(lifetimeInMinutes !== undefined ? { lifetimeInMinutes } : {}),
            ...(isUsableOnce !== undefined ? { isUsableOnce } : {}),
            ...(input.startDateTime ? { startDateTime: input.startDateTime } : {}),
          }),
        (user, created, requestId) => {
          if (typeof created?.temporaryAccessPass !== 'string' || typeof created.id !== 'string') {
            throw new GatewayError(
              ErrorCode.UPSTREAM_ERROR,
              'Microsoft Graph created the Temporary Access Pass but did not return it.',
              requestId ? { requestId } : {},
            );
          }
          return {
            userKey: user,
            temporaryAccessPass: {
              id: created.id,
              temporaryAccessPass: created.temporaryAccessPass,
              startDateTime: created.startDateTime ?? null,
              // What Graph reports, which is what the policy made of an omitted value; never a guess of
              // ours, so a pass is never shown with a lifetime it does not have. The pass itself must
              // still reach the caller when Graph leaves these out (it is shown only once).
              lifetimeInMinutes: typeof created.lifetimeInMinutes === 'number' ? created.lifetimeInMinutes : (lifetimeInMinutes ?? null),
              isUsableOnce: typeof created.isUsableOnce === 'boolean' ? created.isUsableOnce : (isUsableOnce ?? null),
              isUsable: created.isUsable ?? null,
              methodUsabilityReason: created.methodUsabilityReason ?? null,
            },
            requestId: requestId ?? null,
          };
        },
      );
    },
  };
}
