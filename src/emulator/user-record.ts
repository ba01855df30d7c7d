import type { UserRecord } from './model.js';

/** Graph's well-known id of the password authentication method, which every user has. */
export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';

/** Graph writes timestamps to the second. */
export function graphTimestamp(ms: number): string {
  // toISOString is always `YYYY-MM-DDTHH:mm:ss.sssZ` for the emulator's dates; dropping the
  // milliseconds by position rather than a regex keeps seeding large tenants fast.
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/**
 * A user as Entra ID stores a newly created account: every optional property empty, sessions
 * valid from creation, and the password method. Seeding, `POST /users` and tests start here and
 * set what they know.
 */
export function newUserRecord(init: { id: string; displayName: string; userPrincipalName: string; createdMs: number; password: string }): UserRecord {
  const created = graphTimestamp(init.createdMs);
  return {
    id: init.id,
    displayName: init.displayName,
    givenName: null,
    surname: null,
    userPrincipalName: init.userPrincipalName,
    mail: null,
    mailNickname: init.userPrincipalName.split('@')[0]!.replace(/[^A-Za-z0-9._-]/g, ''),
    otherMails: [],
    jobTitle: null,
    department: null,
    officeLocation: null,
    mobilePhone: null,
    businessPhones: [],
    accountEnabled: true,
    userType: 'Member',
    createdDateTime: created,
    employeeId: null,
    employeeType: null,
    companyName: null,
    city: null,
    country: null,
    preferredLanguage: null,
    usageLocation: null,
    onPremisesSyncEnabled: null,
    onPremisesImmutableId: null,
    signInSessionsValidFromDateTime: created,
    passwordProfile: { forceChangePasswordNextSignIn: false, forceChangePasswordNextSignInWithMfa: false },
    managerId: null,
    memberOf: [],
    ownedDevices: [],
    authMethods: [{ id: PASSWORD_METHOD_ID, type: 'password', data: { password: null, createdDateTime: created } }],
    _password: init.password,
    _directoryRoles: [],
    _defaultMfaMethodId: null,
  };
}

/**
 * Before `user` takes `upn`: keeps the name it leaves, for advanced queries under an index lag
 * (GraphSettings.advancedQueryIndexLagSeconds), which still find the user by it for a while.
 */
export function keepPreviousUpn(user: UserRecord, upn: string, nowMs: number): void {
  if (upn === user.userPrincipalName) return;
  user._previousUpns = [...(user._previousUpns ?? []), { upn: user.userPrincipalName, untilMs: nowMs }];
}

/**
 * Adds the user to a group now (emulator clock, ms): the lagging index of advanced queries does not
 * list the membership until GraphSettings.advancedQueryIndexLagSeconds have passed.
 */
export function joinGroup(user: UserRecord, groupId: string, nowMs: number): void {
  if (!user.memberOf.includes(groupId)) user.memberOf.push(groupId);
  user._joinedAtMs = { ...(user._joinedAtMs ?? {}), [groupId]: nowMs };
}

/** Grants the user a tenant-wide directory role now: the lagging index does not list it for a while (as joinGroup). */
export function grantRole(user: UserRecord, role: string, nowMs: number): void {
  if (!user._directoryRoles.includes(role)) user._directoryRoles.push(role);
  user._joinedAtMs = { ...(user._joinedAtMs ?? {}), [`role:${role}`]: nowMs };
}
