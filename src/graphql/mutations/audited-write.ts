import type { GraphQLResolveInfo } from 'graphql';
import type { AuditStep, ContainmentRecord } from '../../audit/event.js';
import type { GatewayError } from '../../errors.js';
import type { GraphWrites, WriteOutcome } from '../../graph/writes.js';
import type { GatewayContext } from '../context.js';
import { auditStep, runAudited, userInput, withoutSecret, type MutationInput } from './audited.js';
import { containmentOf, type Contained } from './contained-callers.js';
import type { WritesOf } from './writes-per-request.js';

/**
 * The shapes most mutations share: one Graph write, audited as one step, whose failure is thrown to
 * the caller after the audit event recorded it (`failed`, or `unknown` when Graph may have applied it).
 */

/** A mutation's result inside the audit frame: its payload, or the error to throw once audited. */
export type Settled<P> = { payload: P } | { failed: GatewayError };

export function payloadOrThrow<P>(settled: Settled<P>): P {
  if ('failed' in settled) throw settled.failed;
  return settled.payload;
}

/** Graph request-ids in order, each once (the items of one `$batch` share the envelope's). */
export function requestIdsOf(...outcomes: Array<{ requestId?: string | undefined }>): string[] {
  return [...new Set(outcomes.map((o) => o.requestId).filter((id): id is string => typeof id === 'string'))];
}

type SingleStep<T> =
  | { failed: GatewayError; steps: AuditStep[]; requestIds: string[] }
  | { failed: undefined; value: T; requestId: string | undefined; steps: AuditStep[]; requestIds: string[] };

/** A single-call write as its audit step and value, or its error (without the secret it was sent). */
export function single<T>(step: string, outcome: WriteOutcome<T>, secret?: string): SingleStep<T> {
  if (!outcome.succeeded) {
    const error = secret ? withoutSecret(outcome.error, secret) : outcome.error;
    return { failed: error, steps: [auditStep(step, outcome)], requestIds: requestIdsOf(outcome) };
  }
  // A value that carries a caveat (revokeSignInSessions on an external user) puts it in the audit trail too.
  const caveat = caveatOf(outcome.value);
  return {
    failed: undefined,
    value: outcome.value,
    requestId: outcome.requestId,
    steps: [auditStep(step, { ...outcome, caveat })],
    requestIds: requestIdsOf(outcome),
  };
}

function caveatOf(value: unknown): string | undefined {
  const caveat = typeof value === 'object' && value !== null ? (value as { caveat?: unknown }).caveat : undefined;
  return typeof caveat === 'string' ? caveat : undefined;
}

/**
 * One audited write turned into a payload: the input checked inside the audit frame, then the write;
 * a failed write is still audited with its step and request-id, then thrown.
 */
export async function auditedSingle<C, T, R>(
  ctx: GatewayContext,
  info: GraphQLResolveInfo,
  input: MutationInput<C>,
  step: string,
  run: (checked: C) => Promise<Contained<WriteOutcome<T>>>,
  toPayload: (checked: C, value: T, requestId: string | undefined) => R,
  secret?: string,
): Promise<R> {
  const settled = await runAudited(
    ctx,
    info,
    input,
    async (checked): Promise<{ result: Settled<R>; steps: AuditStep[]; requestIds: string[]; reason?: string; containment?: ContainmentRecord }> => {
      const outcome = await run(checked);
      const done = single(step, outcome, secret);
      if (done.failed) return { result: { failed: done.failed }, steps: done.steps, requestIds: done.requestIds, reason: done.failed.code };
      return {
        result: { payload: toPayload(checked, done.value, done.requestId) },
        steps: done.steps,
        requestIds: done.requestIds,
        ...containmentOf(outcome),
      };
    },
  );
  return payloadOrThrow(settled);
}

/** A mutation on one `user` that is one audited write; its payload is `fields` plus the write's request-id. */
export function singleUserWrite<T, F>(
  writesOf: WritesOf,
  step: string,
  write: (writes: GraphWrites, user: string, ctx: GatewayContext) => Promise<Contained<WriteOutcome<T>>>,
  fields: (user: string, value: T) => F,
  takeover?: true,
) {
  return async (_parent: unknown, { input }: { input: { user: string } }, ctx: GatewayContext, info: GraphQLResolveInfo) =>
    auditedSingle(
      ctx,
      info,
      userInput(input.user, takeover),
      step,
      (user) => write(writesOf(ctx), user, ctx),
      (user, value, requestId) => ({ ...fields(user, value), requestId: requestId ?? null }),
    );
}
