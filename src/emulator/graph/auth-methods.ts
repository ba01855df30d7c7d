/**
 * `/users/{id}/authentication/...`: the methods collection, per-type collections, temporary access
 * passes, and the password reset long-running operation (202 + Location, polled to completion).
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { EmuResponse } from '../http.js';
import type { AuthMethodRecord, AuthMethodType, UserRecord } from '../model.js';
import { PASSWORD_METHOD_ID } from '../seed.js';
import type { TemporaryAccessPassPolicy } from '../tap-policy.js';
import {
  AUTH_ADMIN,
  can,
  readsEveryUsersAuthMethods,
  requireAuthMethodReadAuthority,
  requireAuthorityOver,
  requireCapability,
  type CallPermissions,
} from './authorization.js';
import { metadataUrl, noContent, ok, readJson, type GraphCall } from './call.js';
import { badRequest, forbidden, notFound } from './errors.js';
import { assertPasswordComplexity, generatePassword } from './password-policy.js';
import { applyPasswordReset, graphState, operationStatus, RESET_DURATION_MS, settleOperations } from './state.js';

/** Per-type collection segment (`emailMethods`) ↔ model type. */
export const METHOD_COLLECTIONS: Record<string, AuthMethodType> = {
  passwordMethods: 'password',
  emailMethods: 'email',
  phoneMethods: 'phone',
  fido2Methods: 'fido2',
  microsoftAuthenticatorMethods: 'microsoftAuthenticator',
  softwareOathMethods: 'softwareOath',
  windowsHelloForBusinessMethods: 'windowsHelloForBusiness',
  temporaryAccessPassMethods: 'temporaryAccessPass',
  // v1.0 collections named unlike the others (authentication-list-externalauthenticationmethods,
  // platformcredentialauthenticationmethod-list). QR code PIN has no collection, only the single
  // `qrCodePinMethod` (qrcodepinauthenticationmethod-get), which the emulator does not serve: its answer
  // for a user without one is not documented; the method is listed in `methods`.
  externalAuthenticationMethods: 'external',
  platformCredentialMethods: 'platformCredential',
};

const UAM_READ = ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'];
const UAM_WRITE = ['UserAuthenticationMethod.ReadWrite.All'];
const either = (permissions: readonly string[]): CallPermissions => ({ application: permissions, delegated: permissions });

/**
 * What each per-type DELETE accepts acting on another user, from its Microsoft Learn page
 * (docs/graph-facts.md#authentication-method-permissions). The phone page lists no per-method
 * permission. For FIDO2 the published tables disagree: the page lists application
 * UserAuthMethod-Passkey.ReadWrite.All and UserAuthenticationMethod.ReadWrite.All, one version of its
 * include (fido2authenticationmethod-delete-permissions.md) Passkey alone; the emulator takes the
 * stricter reading. Self-only permissions (no `.All`) are not listed: the gateway acts on other users.
 */
const DELETE_PERMISSIONS: Partial<Record<AuthMethodType, CallPermissions>> = {
  password: either(UAM_WRITE),
  email: either([...UAM_WRITE, 'UserAuthMethod-Email.ReadWrite.All']),
  phone: either(UAM_WRITE),
  fido2: { application: ['UserAuthMethod-Passkey.ReadWrite.All'], delegated: [...UAM_WRITE, 'UserAuthMethod-Passkey.ReadWrite.All'] },
  microsoftAuthenticator: either([...UAM_WRITE, 'UserAuthMethod-MicrosoftAuthApp.ReadWrite.All']),
  softwareOath: either([...UAM_WRITE, 'UserAuthMethod-SoftwareOATH.ReadWrite.All']),
  windowsHelloForBusiness: either([...UAM_WRITE, 'UserAuthMethod-WindowsHello.ReadWrite.All']),
  temporaryAccessPass: either([...UAM_WRITE, 'UserAuthMethod-TAP.ReadWrite.All']),
  // platformcredentialauthenticationmethod-delete; authentication-delete-externalauthenticationmethods
  // (served at `.../{id}/$ref` only, the path its page gives: REF_DELETE_COLLECTIONS).
  platformCredential: either([...UAM_WRITE, 'UserAuthMethod-PlatformCred.ReadWrite.All']),
  external: either([...UAM_WRITE, 'UserAuthMethod-External.ReadWrite.All']),
};

/**
 * Collections whose methods are deleted at `.../{id}/$ref`: the external methods' Delete page gives
 * only that path. A DELETE of `.../{id}` there is not documented: the emulator refuses it (405), the
 * stricter reading.
 */
export const REF_DELETE_COLLECTIONS: ReadonlySet<string> = new Set(['externalAuthenticationMethods']);

/** Whether the emulator serves DELETE on a per-type collection's method. */
export function deletableCollection(collection: string): boolean {
  const type = METHOD_COLLECTIONS[collection];
  return type !== undefined && DELETE_PERMISSIONS[type] !== undefined;
}

/**
 * Creating a pass: UserAuthenticationMethod.ReadWrite.All or UserAuthMethod-TAP.ReadWrite.All. The
 * create page's generated table also lists read-only permissions (UserAuthMethod-TAP.Read.All,
 * UserAuthenticationMethod.Read.All), whose descriptions allow reading only; the emulator refuses
 * them, the stricter reading (docs/graph-facts.md#authentication-method-permissions).
 */
const TAP_CREATE = either([...UAM_WRITE, 'UserAuthMethod-TAP.ReadWrite.All']);
/**
 * The per-method permission family each per-type collection's List and Get pages name (November 2025,
 * docs/graph-facts.md#authentication-method-reads): `UserAuthMethod-<family>.Read.All` least privileged,
 * its `.ReadWrite.All` among the higher ones, next to the UserAuthenticationMethod.* reads. The
 * password pages list the UserAuthenticationMethod.* reads only, and so does `/authentication/methods`
 * (authentication-list-methods), so neither has a family here.
 */
const READ_FAMILY: Partial<Record<AuthMethodType, string>> = {
  email: 'Email',
  phone: 'Phone',
  fido2: 'Passkey',
  microsoftAuthenticator: 'MicrosoftAuthApp',
  softwareOath: 'SoftwareOATH',
  windowsHelloForBusiness: 'WindowsHello',
  temporaryAccessPass: 'TAP',
};

/**
 * What a read of a collection (or of one method in it) accepts: the UserAuthenticationMethod.* reads,
 * plus the collection's own `UserAuthMethod-<family>.Read.All`/`.ReadWrite.All`, which reach that
 * collection only (the emulator used to refuse them outside passes, stricter than the pages).
 */
function readPermissions(type: AuthMethodType | undefined): CallPermissions | undefined {
  const family = type === undefined ? undefined : READ_FAMILY[type];
  return family === undefined ? undefined : either([...UAM_READ, `UserAuthMethod-${family}.Read.All`, `UserAuthMethod-${family}.ReadWrite.All`]);
}

function odataType(type: AuthMethodType): string {
  return `#microsoft.graph.${type}AuthenticationMethod`;
}

/**
 * isUsable and methodUsabilityReason of a pass, worked out when it is read, as Graph reports them
 * (resources/temporaryaccesspassauthenticationmethod; docs/graph-facts.md#temporary-access-pass):
 * `DisabledByPolicy` while the tenant's policy is disabled, `NotYetValid` before startDateTime,
 * `Expired` from startDateTime + lifetimeInMinutes, else `EnabledByPolicy`. `OneTimeUsed` needs a
 * sign-in with the pass, which the emulator does not offer, so it never reports it.
 */
function tapUsability(data: Record<string, unknown>, policy: TemporaryAccessPassPolicy, now: number): { isUsable: boolean; methodUsabilityReason: string } {
  if (policy.state === 'disabled') return { isUsable: false, methodUsabilityReason: 'DisabledByPolicy' };
  const start = Date.parse(String(data.startDateTime ?? data.createdDateTime));
  const lifetimeMs = Number(data.lifetimeInMinutes) * 60_000;
  if (now < start) return { isUsable: false, methodUsabilityReason: 'NotYetValid' };
  if (now >= start + lifetimeMs) return { isUsable: false, methodUsabilityReason: 'Expired' };
  return { isUsable: true, methodUsabilityReason: 'EnabledByPolicy' };
}

/**
 * "The authentication administrator only sees masked phone numbers" (authentication-list-methods,
 * authentication-list-phonemethods): a signed-in Authentication Administrator reading another user's
 * methods, without a role that reads them in full (Global Reader, Privileged Authentication
 * Administrator, Global Administrator). The mask is not documented: the emulator keeps the country
 * code and the last two digits (docs/graph-facts.md#authentication-method-reads).
 */
function seesMaskedPhones(call: GraphCall, user: UserRecord): boolean {
  const p = call.principal;
  if (p.kind !== 'user' || p.objectId.toLowerCase() === user.id.toLowerCase()) return false;
  const roles = p.directoryRoles;
  return roles.includes(AUTH_ADMIN) && !readsEveryUsersAuthMethods(roles);
}

function maskPhone(number: unknown): unknown {
  if (typeof number !== 'string') return number;
  const [country, ...rest] = number.split(' ');
  const digits = rest.join('');
  if (!country?.startsWith('+') || digits.length < 3) return number.replace(/\d/g, 'X');
  return `${country} ${'X'.repeat(digits.length - 2)}${digits.slice(-2)}`;
}

function toGraph(call: GraphCall, method: AuthMethodRecord, user?: UserRecord): Record<string, unknown> {
  const usability = method.type === 'temporaryAccessPass' ? tapUsability(method.data, call.ctx.tenant.temporaryAccessPassPolicy, call.ctx.now()) : {};
  const masked = method.type === 'phone' && user !== undefined && seesMaskedPhones(call, user) ? { phoneNumber: maskPhone(method.data.phoneNumber) } : {};
  return { '@odata.type': odataType(method.type), id: method.id, ...method.data, ...usability, ...masked };
}

/**
 * A method as read through a per-type collection (`phoneMethods`, ...). The List pages of phone,
 * email, FIDO2, password and Temporary Access Pass methods show items without `@odata.type` (the
 * type is the collection's own), the Microsoft Authenticator page with it: under the
 * `authMethodTypeAnnotation` switch's default, the stricter reading, it is left out
 * (docs/graph-facts.md#authentication-method-reads). The mixed `methods` collection always has it.
 */
function toGraphTyped(call: GraphCall, method: AuthMethodRecord, collection: string | undefined, user: UserRecord): Record<string, unknown> {
  const item = toGraph(call, method, user);
  if (collection === undefined || call.ctx.graph.authMethodTypeAnnotation === 'present') return item;
  const { '@odata.type': _type, ...rest } = item;
  return rest;
}

function contextFor(call: GraphCall, user: UserRecord, segment: string): string {
  return metadataUrl(call, `users('${user.id}')/authentication/${segment}`);
}

/**
 * Reads of authentication methods take no query options: "This method does not support optional query
 * parameters to customize the response" (the List and Get pages; the Microsoft Authenticator page: "Not
 * supported"). Whether Graph ignores or refuses one is not documented; the emulator refuses any
 * `$`-prefixed option with 400, the stricter reading (docs/graph-facts.md#authentication-method-reads).
 */
function refuseQueryOptions(call: GraphCall): void {
  for (const key of call.req.url.searchParams.keys()) {
    if (key.startsWith('$')) throw badRequest(`Query option '${key.slice(0, 100)}' is not supported for this operation.`, 'BadRequest');
  }
}

export function listMethods(call: GraphCall, user: UserRecord, collection?: string): EmuResponse {
  refuseQueryOptions(call);
  const type = collection ? METHOD_COLLECTIONS[collection] : undefined;
  requireCapability(call.principal, 'authMethods.read', user, readPermissions(type));
  requireAuthMethodReadAuthority(call.principal, user);
  const methods = user.authMethods.filter((m) => type === undefined || m.type === type);
  return ok(200, { '@odata.context': contextFor(call, user, collection ?? 'methods'), value: methods.map((m) => toGraphTyped(call, m, collection, user)) });
}

function findMethod(user: UserRecord, id: string, collection?: string): AuthMethodRecord {
  const type = collection ? METHOD_COLLECTIONS[collection] : undefined;
  const method = user.authMethods.find((m) => m.id.toLowerCase() === id.toLowerCase() && (type === undefined || m.type === type));
  if (!method) throw notFound(id);
  return method;
}

export function getMethod(call: GraphCall, user: UserRecord, id: string, collection?: string): EmuResponse {
  refuseQueryOptions(call);
  requireCapability(call.principal, 'authMethods.read', user, readPermissions(collection ? METHOD_COLLECTIONS[collection] : undefined));
  requireAuthMethodReadAuthority(call.principal, user);
  const method = findMethod(user, id, collection);
  return ok(200, { '@odata.context': `${contextFor(call, user, collection ?? 'methods')}/$entity`, ...toGraphTyped(call, method, collection, user) });
}

export function deleteMethod(call: GraphCall, user: UserRecord, id: string, collection: string): EmuResponse {
  const type = METHOD_COLLECTIONS[collection];
  requireCapability(call.principal, 'authMethods.write', user, type ? DELETE_PERMISSIONS[type] : undefined);
  requireAuthorityOver(call.principal, user, { requireRole: false });
  const method = findMethod(user, id, collection);
  if (method.type === 'password') throw badRequest('The password authentication method cannot be deleted.', 'badRequest');
  assertDeletable(user, method);
  user.authMethods = user.authMethods.filter((m) => m !== method);
  return noContent();
}

/**
 * What Graph refuses to delete besides the password (docs/graph-facts.md#deleting-authentication-methods).
 * The user's default MFA method: phoneauthenticationmethod-delete says a phone that is the default
 * "can't be deleted", and field reports show the refusal for other types too, as 400 `badRequest`
 * (microsoft-graph-docs-contrib#1888 quotes this message; #2913 quotes "Cannot delete default method
 * with other methods configured"): the emulator refuses it whatever else is registered, the stricter
 * reading. A mobile number while an alternateMobile one exists: "A user can't have an alternateMobile
 * number without a mobile number" (the same page); the answer is not documented, so 400 `badRequest`
 * with a message of the emulator's own, as the page's other refusal.
 */
function assertDeletable(user: UserRecord, method: AuthMethodRecord): void {
  if (user._defaultMfaMethodId !== null && user._defaultMfaMethodId.toLowerCase() === method.id.toLowerCase()) {
    throw badRequest(
      `The requested authentication method id of [${method.id}] matches the user's current default authentication method, and cannot be deleted until the default authentication method is changed`,
      'badRequest',
    );
  }
  if (
    method.type === 'phone' &&
    method.data.phoneType === 'mobile' &&
    user.authMethods.some((m) => m.type === 'phone' && m.data.phoneType === 'alternateMobile')
  ) {
    throw badRequest(
      'A user cannot have an alternateMobile phone number without a mobile phone number: delete the alternateMobile number first, or update the mobile number instead.',
      'badRequest',
    );
  }
}

const TAP_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789@#%&*+=?';

/**
 * `POST .../temporaryAccessPassMethods` under the tenant's policy (authentication-post-temporaryaccesspassmethods;
 * docs/graph-facts.md#temporary-access-pass). Every property is optional: an omitted lifetime is the
 * policy's defaultLifetimeInMinutes, an omitted isUsableOnce the policy's isUsableOnce (Microsoft
 * does not say; a one-time-only policy makes every pass one-time, and a reusable pass is created
 * only where the policy allows it). A lifetime outside the policy's bounds is Graph's 400
 * `badRequest` "Invalid LifetimeInMinutes specified. The valid range between 60 and 480." as a
 * field report quotes it (microsoftgraph/microsoft-graph-docs#12187); what Graph answers a reusable
 * pass under a one-time-only policy, or any pass under a disabled policy, is not documented: 400
 * `badRequest` with the emulator's own message. A new pass replaces the user's previous one, valid
 * or not.
 */
export function createTemporaryAccessPass(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'authMethods.write', user, TAP_CREATE);
  // Never on the caller's own account: the create page documents permissions "acting on other users"
  // only, and the Entra page lets each admin role create passes for others "(except themselves)". What
  // Graph answers is not documented: 403, as resetPassword's same refusal (docs/graph-facts.md#temporary-access-pass).
  if (call.principal.kind === 'user' && call.principal.objectId.toLowerCase() === user.id.toLowerCase()) throw forbidden();
  requireAuthorityOver(call.principal, user, { requireRole: false });
  // An internal guest (userType Guest, its methods in this tenant) may get a pass, an external one
  // (invited from elsewhere: `#EXT#` in its userPrincipalName) may not, through Graph as in the admin
  // center, with this message (docs/graph-facts.md#temporary-access-pass). The status is not documented:
  // 400, as the other refusals of a create.
  if (user.userPrincipalName.toUpperCase().includes('#EXT#')) {
    throw badRequest('Temporary Access Pass cannot be added to an external guest user.', 'badRequest');
  }
  const body = readJson(call) ?? {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Invalid request body.', 'badRequest');
  const given = body as Record<string, unknown>;
  if ('lifetimeInMinutes' in given && (typeof given.lifetimeInMinutes !== 'number' || !Number.isInteger(given.lifetimeInMinutes))) {
    throw badRequest("Invalid value for 'lifetimeInMinutes'.", 'badRequest');
  }
  if ('isUsableOnce' in given && typeof given.isUsableOnce !== 'boolean') throw badRequest("Invalid value for 'isUsableOnce'.", 'badRequest');
  const now = call.ctx.now();
  let start = new Date(now).toISOString();
  if ('startDateTime' in given) {
    if (typeof given.startDateTime !== 'string' || Number.isNaN(Date.parse(given.startDateTime)))
      throw badRequest("Invalid value for 'startDateTime'.", 'badRequest');
    start = new Date(Date.parse(given.startDateTime)).toISOString();
  }

  const policy = call.ctx.tenant.temporaryAccessPassPolicy;
  if (policy.state === 'disabled') {
    throw badRequest('The Temporary Access Pass authentication method is disabled by the tenant policy.', 'badRequest');
  }
  const lifetime = (given.lifetimeInMinutes as number | undefined) ?? policy.defaultLifetimeInMinutes;
  if (lifetime < policy.minimumLifetimeInMinutes || lifetime > policy.maximumLifetimeInMinutes) {
    throw badRequest(
      `Invalid LifetimeInMinutes specified. The valid range between ${policy.minimumLifetimeInMinutes} and ${policy.maximumLifetimeInMinutes}.`,
      'badRequest',
    );
  }
  const isUsableOnce = (given.isUsableOnce as boolean | undefined) ?? policy.isUsableOnce;
  if (policy.isUsableOnce && !isUsableOnce) {
    throw badRequest('The tenant policy allows only one-time Temporary Access Passes: isUsableOnce must be true.', 'badRequest');
  }

  let pass = '';
  for (let i = 0; i < policy.defaultLength; i += 1) pass += TAP_ALPHABET[randomInt(TAP_ALPHABET.length)];
  const method: AuthMethodRecord = {
    id: randomUUID(),
    type: 'temporaryAccessPass',
    data: { temporaryAccessPass: null, createdDateTime: new Date(now).toISOString(), startDateTime: start, lifetimeInMinutes: lifetime, isUsableOnce },
  };
  // "A user can only have one Temporary Access Pass": the previous one, valid or expired, is deleted.
  user.authMethods = [...user.authMethods.filter((m) => m.type !== 'temporaryAccessPass'), method];
  // The pass itself is shown once, in this response only.
  return ok(201, { '@odata.context': `${contextFor(call, user, 'temporaryAccessPassMethods')}/$entity`, ...toGraph(call, method), temporaryAccessPass: pass });
}

/**
 * `POST .../methods/{id}/resetPassword`. Graph lists its permissions as Delegated
 * `UserAuthenticationMethod.ReadWrite.All` and "Application: Not supported", and says it "can't be
 * performed on a user's own account" (docs/graph-facts.md#writes-and-permissions). What Graph answers
 * an app-only token is not documented; field reports of app-only callers show 403
 * Authorization_RequestDenied, which the emulator gives for both refusals.
 */
export function resetPassword(call: GraphCall, user: UserRecord, methodId: string): EmuResponse {
  if (call.principal.kind !== 'user') throw forbidden();
  if (call.principal.objectId.toLowerCase() === user.id.toLowerCase()) throw forbidden();
  requireCapability(call.principal, 'authMethods.resetPassword', user);
  requireAuthorityOver(call.principal, user, { requireRole: true });
  const method = findMethod(user, methodId);
  if (method.type !== 'password' || method.id !== PASSWORD_METHOD_ID)
    throw badRequest('resetPassword is only supported on the password authentication method.', 'badRequest');
  const body = (readJson(call) ?? {}) as Record<string, unknown>;
  let newPassword = body.newPassword;
  let generated = false;
  if (newPassword === undefined || newPassword === null) {
    if (user.onPremisesSyncEnabled) throw badRequest('A new password must be provided for a user synchronized from on-premises.', 'badRequest');
    newPassword = generatePassword(Math.random);
    generated = true;
  } else {
    assertPasswordComplexity(newPassword, user);
  }
  const op = { id: randomUUID(), userId: user.id, createdAt: call.ctx.now(), newPassword: newPassword as string, applied: false };
  const passwordResetResponse = { '@odata.context': metadataUrl(call, 'microsoft.graph.passwordResetResponse'), newPassword };
  if (call.ctx.graph.resetPasswordAnswer === 'completed') {
    // The other reading (docs/graph-facts.md#writes-and-permissions, "Reset password"): done at once, no
    // Location; 204 for a password the caller gave, 200 with the generated one.
    applyPasswordReset(call.ctx.tenant, op, call.ctx.now());
    return generated ? ok(200, passwordResetResponse) : noContent();
  }
  graphState(call.ctx.tenant).operations.set(op.id, op);
  // Settles on the real clock too, for callers that never poll.
  setTimeout(() => settleOperations(call.ctx.tenant, call.ctx.now()), RESET_DURATION_MS + 50).unref();
  return {
    status: 202,
    headers: {
      'content-type': 'application/json',
      // The page's examples give the Location with the service's own query parameters
      // (`?aadgdc=DUB02P&aadgsu=ssprprod-a`); a client follows it whole (docs/graph-facts.md#writes-and-permissions).
      location: `${call.ctx.origin}/${call.version}/users/${user.id}/authentication/operations/${op.id}?aadgdc=EMU01P&aadgsu=ssprprod-a`,
      'retry-after': '1',
    },
    // The page's examples: `{}` for a password the caller gave, a passwordResetResponse for a generated one.
    body: generated ? passwordResetResponse : {},
  };
}

export function getOperation(call: GraphCall, user: UserRecord, opId: string): EmuResponse {
  if (!can(call.principal, 'authMethods.read', user) && !can(call.principal, 'authMethods.resetPassword', user)) throw forbidden();
  const op = graphState(call.ctx.tenant).operations.get(opId);
  if (!op || op.userId !== user.id) throw notFound(opId);
  settleOperations(call.ctx.tenant, call.ctx.now());
  const status = operationStatus(op, call.ctx.now());
  const iso = (ms: number) => new Date(ms).toISOString();
  return ok(
    200,
    {
      '@odata.context': metadataUrl(call, `users('${user.id}')/authentication/operations/$entity`),
      id: op.id,
      createdDateTime: iso(op.createdAt),
      lastActionDateTime: iso(Math.min(call.ctx.now(), op.createdAt + RESET_DURATION_MS)),
      resourceLocation: null,
      status,
      statusDetail: null,
    },
    status === 'succeeded' ? {} : { 'retry-after': '1' },
  );
}
