import { badInput } from '../../errors.js';
import type { MutationResolvers } from '../../generated/graphql.js';
import { normalizeUserKey } from '../user-id.js';
import { auditedSingle, singleUserWrite } from './audited-write.js';
import { containing, writeSucceeded } from './contained-callers.js';
import type { WritesOf } from './writes-per-request.js';

/** UpdateUserInput fields, sent as Graph properties of the same name. */
const UPDATABLE = [
  'displayName',
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'officeLocation',
  'mobilePhone',
  'businessPhones',
  'employeeId',
  'companyName',
  'city',
  'country',
  'preferredLanguage',
  'usageLocation',
  'employeeType',
] as const;

/**
 * The UPDATABLE fields Microsoft lists among a user's sensitive properties ("Who can perform sensitive
 * actions", docs/graph-facts.md#writes-and-permissions): contact numbers that account recovery may be
 * aimed at, which Entra lets only privileged roles change on an administrator. Changing them on an
 * administrator needs Users.ManageAdmins (docs/security.md#administrators-as-targets).
 */
const SIGN_IN_PROPERTIES: readonly string[] = ['mobilePhone', 'businessPhones'];

/** CreateUserInput fields sent only when given, as Graph properties of the same name. */
const CREATE_OPTIONAL = [
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'officeLocation',
  'mobilePhone',
  'employeeId',
  'companyName',
  'usageLocation',
  'onPremisesImmutableId',
] as const;

/**
 * Checks the properties whose limits Graph documents in resources/user and that a caller can get wrong
 * in ways Graph may not report (docs/graph-facts.md#user-properties, "Values a write may set"):
 * `businessPhones` holds at most one number ("only one number can be set for this property"), and
 * `usageLocation` is a two-letter ISO 3166 code, sent upper case as Graph's examples show it.
 */
function checkDocumentedLimits(properties: Record<string, unknown>): void {
  const phones = properties.businessPhones;
  if (Array.isArray(phones) && phones.length > 1) throw badInput('`businessPhones` holds at most one number (Microsoft Graph stores one).');
  const location = properties.usageLocation;
  if (location === null) throw badInput('`usageLocation` cannot be cleared.');
  if (typeof location === 'string') {
    if (!/^[A-Za-z]{2}$/.test(location)) throw badInput('`usageLocation` must be a two-letter ISO 3166 country code, for example `US`.');
    properties.usageLocation = location.toUpperCase();
  }
}

/**
 * Graph refuses an empty string for a user's string properties (400 "Invalid value specified for
 * property ..."), and clears one only for `null`; an empty business phone number is refused alike and
 * `[]` clears them (docs/graph-facts.md#user-properties, "Clearing a property"). So an empty string a
 * caller gives means "no value": `null` in an update (which clears it), left out of a creation.
 */
function emptyAsNoValue(key: string, value: unknown): unknown {
  if (value === '') return null;
  if (key === 'businessPhones' && Array.isArray(value)) return value.filter((phone) => phone !== '');
  return value;
}

/** `createUser`, `updateUser` and `deleteUser`. */
export function userLifecycleMutations(writesOf: WritesOf): MutationResolvers {
  return {
    createUser: async (_p, { input }, ctx, info) => {
      const upn = String(input.userPrincipalName ?? '');
      const password = String(input.password ?? '');
      const check = () => {
        normalizeUserKey(upn, 'userPrincipalName');
        if (password.length === 0) throw badInput('`password` must not be empty.');
        const properties: Record<string, unknown> = {};
        for (const key of CREATE_OPTIONAL) {
          const value = emptyAsNoValue(key, input[key]);
          if (value !== undefined && value !== null) properties[key] = value;
        }
        checkDocumentedLimits(properties);
        return properties;
      };
      return auditedSingle(
        ctx,
        info,
        { target: upn, check, newUser: true },
        'CREATE_USER',
        (properties) =>
          writesOf(ctx).createUser({
            userPrincipalName: upn,
            displayName: String(input.displayName),
            mailNickname: String(input.mailNickname),
            password,
            accountEnabled: input.accountEnabled !== false,
            forceChangePasswordNextSignIn: input.forceChangePasswordNextSignIn !== false,
            properties,
          }),
        (_properties, created, requestId) => ({
          userKey: typeof created?.id === 'string' ? created.id : upn,
          known: created,
          requestId: requestId ?? null,
        }),
        password,
      );
    },

    updateUser: async (_p, { input }, ctx, info) => {
      const check = () => {
        const user = normalizeUserKey(String(input.user ?? ''), 'user');
        const changes: Record<string, unknown> = {};
        if (input.displayName === '') throw badInput('`displayName` cannot be empty.');
        for (const key of UPDATABLE) if (key in input && input[key] !== undefined) changes[key] = emptyAsNoValue(key, input[key]);
        if (Object.keys(changes).length === 0) throw badInput('`updateUser` needs at least one property to change besides `user`.');
        if (changes.displayName === null) throw badInput('`displayName` cannot be cleared.');
        checkDocumentedLimits(changes);
        return { user, changes };
      };
      return auditedSingle(
        ctx,
        info,
        { target: input.user, check, takeover: ({ changes }) => SIGN_IN_PROPERTIES.some((key) => key in changes) },
        'UPDATE_USER',
        ({ user, changes }) => writesOf(ctx).updateUser(user, changes),
        ({ user, changes }, _v, requestId) => ({
          userKey: user,
          updatedFields: Object.keys(changes),
          requestId: requestId ?? null,
        }),
      );
    },

    deleteUser: singleUserWrite(
      writesOf,
      'DELETE_USER',
      (writes, user, ctx) => containing(ctx, writes, user, () => writes.deleteUser(user), writeSucceeded, { lookUpFirst: true }),
      (user) => ({
        deletedUser: user,
        deleted: true,
      }),
      // Deleting is not containment (disableAccount is), and deleting administrators locks the responders out.
      true,
    ),
  };
}
