/**
 * `/users/{id}/authentication/...`: the methods collection, per-type collections, temporary access
 * passes, and the password reset long-running operation (202 + Location, polled to completion).
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { EmuResponse } from '../http.js';
import type { AuthMethodRecord, AuthMethodType, UserRecord } from '../model.js';
import { PASSWORD_METHOD_ID } from '../seed.js';
import { can, requireAuthorityOver, requireCapability } from './authorization.js';
import { metadataUrl, noContent, ok, readJson, type GraphCall } from './call.js';
import { badRequest, forbidden, notFound } from './errors.js';
import { assertPasswordComplexity, generatePassword } from './password-policy.js';
import { graphState, operationStatus, RESET_DURATION_MS, settleOperations } from './state.js';

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
};

function odataType(type: AuthMethodType): string {
  return `#microsoft.graph.${type}AuthenticationMethod`;
}

function toGraph(method: AuthMethodRecord): Record<string, unknown> {
  return { '@odata.type': odataType(method.type), id: method.id, ...method.data };
}

function contextFor(call: GraphCall, user: UserRecord, segment: string): string {
  return metadataUrl(call, `users('${user.id}')/authentication/${segment}`);
}

export function listMethods(call: GraphCall, user: UserRecord, collection?: string): EmuResponse {
  requireCapability(call.principal, 'authMethods.read', user);
  const type = collection ? METHOD_COLLECTIONS[collection] : undefined;
  const methods = user.authMethods.filter((m) => type === undefined || m.type === type);
  return ok(200, { '@odata.context': contextFor(call, user, collection ?? 'methods'), value: methods.map(toGraph) });
}

function findMethod(user: UserRecord, id: string, collection?: string): AuthMethodRecord {
  const type = collection ? METHOD_COLLECTIONS[collection] : undefined;
  const method = user.authMethods.find((m) => m.id.toLowerCase() === id.toLowerCase() && (type === undefined || m.type === type));
  if (!method) throw notFound(id);
  return method;
}

export function getMethod(call: GraphCall, user: UserRecord, id: string, collection?: string): EmuResponse {
  requireCapability(call.principal, 'authMethods.read', user);
  const method = findMethod(user, id, collection);
  return ok(200, { '@odata.context': `${contextFor(call, user, collection ?? 'methods')}/$entity`, ...toGraph(method) });
}

export function deleteMethod(call: GraphCall, user: UserRecord, id: string, collection: string): EmuResponse {
  requireCapability(call.principal, 'authMethods.write', user);
  requireAuthorityOver(call.principal, user, { requireRole: false });
  const method = findMethod(user, id, collection);
  if (method.type === 'password') throw badRequest('The password authentication method cannot be deleted.', 'badRequest');
  user.authMethods = user.authMethods.filter((m) => m !== method);
  return noContent();
}

export function createTemporaryAccessPass(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'authMethods.write', user);
  requireAuthorityOver(call.principal, user, { requireRole: false });
  const body = (readJson(call) ?? {}) as Record<string, unknown>;
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('Invalid request body.', 'badRequest');
  const lifetime = body.lifetimeInMinutes ?? 60;
  if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < 10 || lifetime > 43200) {
    throw badRequest('The lifetimeInMinutes value must be between 10 and 43200 minutes.', 'badRequest');
  }
  const isUsableOnce = body.isUsableOnce ?? false;
  if (typeof isUsableOnce !== 'boolean') throw badRequest("Invalid value for 'isUsableOnce'.", 'badRequest');
  const now = new Date(call.ctx.now()).toISOString();
  const start = body.startDateTime ?? now;
  if (typeof start !== 'string' || Number.isNaN(Date.parse(start))) throw badRequest("Invalid value for 'startDateTime'.", 'badRequest');
  if (user.authMethods.some((m) => m.type === 'temporaryAccessPass' && m.data.isUsable === true)) {
    throw badRequest('The user already has an active Temporary Access Pass.', 'badRequest');
  }
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789@#%&*+=?';
  let pass = '';
  for (let i = 0; i < 8; i += 1) pass += alphabet[randomInt(alphabet.length)];
  const method: AuthMethodRecord = {
    id: randomUUID(),
    type: 'temporaryAccessPass',
    data: {
      temporaryAccessPass: null,
      createdDateTime: now,
      startDateTime: start,
      lifetimeInMinutes: lifetime,
      isUsableOnce,
      isUsable: true,
      methodUsabilityReason: 'EnabledByPolicy',
    },
  };
  user.authMethods.push(method);
  // The pass itself is shown once, in this response only.
  return ok(201, { '@odata.context': `${contextFor(call, user, 'temporaryAccessPassMethods')}/$entity`, ...toGraph(method), temporaryAccessPass: pass });
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
  graphState(call.ctx.tenant).operations.set(op.id, op);
  // Settles on the real clock too, for callers that never poll.
  setTimeout(() => settleOperations(call.ctx.tenant, call.ctx.now()), RESET_DURATION_MS + 50).unref();
  return {
    status: 202,
    headers: {
      'content-type': 'application/json',
      location: `${call.ctx.origin}/${call.version}/users/${user.id}/authentication/operations/${op.id}`,
      'retry-after': '1',
    },
    body: generated ? { newPassword } : undefined,
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
