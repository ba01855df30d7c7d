/**
 * Graph-side state that is not directory data (long-running operations, delta sync epochs). Keyed by
 * the tenant object, so `POST /_emulator/reset` (a new tenant) starts it afresh.
 */
import { randomUUID } from 'node:crypto';
import type { TenantModel, UserChange } from '../model.js';

export interface PasswordResetOperation {
  id: string;
  userId: string;
  createdAt: number;
  newPassword: string;
  applied: boolean;
}

export interface GraphState {
  /** Random per tenant instance: delta tokens from an older tenant are unknown to this one. */
  epoch: string;
  operations: Map<string, PasswordResetOperation>;
}

const states = new WeakMap<TenantModel, GraphState>();

export function graphState(tenant: TenantModel): GraphState {
  let state = states.get(tenant);
  if (!state) {
    state = { epoch: randomUUID().slice(0, 8), operations: new Map() };
    states.set(tenant, state);
  }
  return state;
}

/** Appends to the delta change log (every write to a user goes through here). */
export function recordChange(
  tenant: TenantModel,
  userId: string,
  kind: UserChange['kind'],
  at: number,
  properties?: readonly string[],
  formerManagerId?: string,
): void {
  tenant.changeSeq += 1;
  tenant.changes.push({ seq: tenant.changeSeq, userId, kind, at, ...(properties ? { properties } : {}), ...(formerManagerId ? { formerManagerId } : {}) });
}

/** How long a password reset stays `notStarted` / `running` on the emulator clock. */
export const RESET_NOT_STARTED_MS = 200;
export const RESET_DURATION_MS = 1000;

export function operationStatus(op: PasswordResetOperation, now: number): 'notStarted' | 'running' | 'succeeded' {
  const age = now - op.createdAt;
  if (age < RESET_NOT_STARTED_MS) return 'notStarted';
  if (age < RESET_DURATION_MS) return 'running';
  return 'succeeded';
}

/**
 * Applies finished password resets (lazily, on the next Graph request or poll). resetPassword's page:
 * "The user is prompted to change their password on their next sign in", so the reset also sets
 * `passwordProfile.forceChangePasswordNextSignIn` (docs/graph-facts.md#writes-and-permissions, "Reset password").
 */
export function settleOperations(tenant: TenantModel, now: number): void {
  for (const op of graphState(tenant).operations.values()) {
    if (op.applied || operationStatus(op, now) !== 'succeeded') continue;
    applyPasswordReset(tenant, op, now);
  }
}

/** Sets the reset's password and the change-at-next-sign-in flag, once. */
export function applyPasswordReset(tenant: TenantModel, op: PasswordResetOperation, now: number): void {
  if (op.applied) return;
  op.applied = true;
  const user = tenant.users.get(op.userId);
  if (!user) return;
  user._password = op.newPassword;
  user.passwordProfile.forceChangePasswordNextSignIn = true;
  recordChange(tenant, user.id, 'changed', now, ['passwordProfile']);
}
