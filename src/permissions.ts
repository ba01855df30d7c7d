/**
 * The gateway's own permissions: what a caller may ask of the gateway, whatever the gateway's Graph
 * identity could do. Entra callers carry them as app roles (`roles`) or delegated scopes (`scp`)
 * of the gateway's API; API keys list them in API_KEYS. The SDL names them on every root field and
 * on the sensitive fields below (`@requiresPermission`), and docs/security.md#permissions tabulates
 * what each unlocks.
 *
 * Neutral module on purpose: identity (who holds what), GraphQL (what needs what), configuration
 * (API keys) and the emulator (the roles its gateway API defines) all depend on it.
 */
export const Permission = {
  /** Profiles of users: `user`, `users`, `me`, manager and reports, and the user a mutation returns. */
  UsersRead: 'Users.Read',
  /** `User.authenticationMethods`: phone numbers, e-mail addresses and devices used for MFA. */
  UsersReadAuthMethods: 'Users.ReadAuthMethods',
  /** `User.memberOf`: group memberships (who is in which privileged group). */
  UsersReadMemberships: 'Users.ReadMemberships',
  /** `User.ownedDevices`: the user's devices, operating systems and versions. */
  UsersReadDevices: 'Users.ReadDevices',
  /** `userChanges`: the whole directory (full sync), then every change and removal. */
  UsersReadChanges: 'Users.ReadChanges',
  UsersWrite: 'Users.Write',
  UsersTerminate: 'Users.Terminate',
  UsersChangePassword: 'Users.ChangePassword',
  UsersManageAuthMethods: 'Users.ManageAuthMethods',
  /**
   * Lets the other write permissions act on users who hold a directory role where the write could
   * hand their account over (a pass, a password, their MFA methods): docs/security.md#administrators-as-targets.
   * Grants no mutation by itself.
   */
  UsersManageAdmins: 'Users.ManageAdmins',
  /** Signs the gateway in (`/auth/login`, `/auth/login-link`): replaces the Graph identity every caller is served as. Operators only. */
  GatewayAdmin: 'Gateway.Admin',
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];
export const ALL_PERMISSIONS: readonly Permission[] = Object.values(Permission);

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (ALL_PERMISSIONS as readonly string[]).includes(value);
}

/**
 * What an API_KEYS entry without a permission list holds: reading profiles only. Everything else,
 * including the sensitive reads, has to be named.
 */
export const DEFAULT_API_KEY_PERMISSIONS: readonly Permission[] = [Permission.UsersRead];
