import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { GraphQLError, Kind, getOperationAST, type DocumentNode, type SelectionSetNode, type ValueNode } from 'graphql';
import { ErrorCode, GatewayError } from '../errors.js';
import type { Caller } from '../identity/types.js';
import { auditCaller, auditOperationName } from './event.js';
import type { AuditLog } from './log.js';
import { addressableUserKey } from '../graphql/user-id.js';
import { auditRefusedRequest } from './refused-request.js';

/**
 * Apollo plugin that makes every mutation leave an audit event:
 * - operations refused before execution (UNSUPPORTED_DEPLOYMENT_MODE or UNSUPPORTED_GRAPH_IDENTITY at validation, FORBIDDEN by
 *   the permission plugin, OPERATION_TOO_COMPLEX by the operation limits or the upstream budget, BAD_USER_INPUT for
 *   variables or input values that do not fit their types) produce one `refused` event per mutation field they selected;
 * - a mutation document the parser refused at its token limit produces one `refused` event for the whole document
 *   (src/audit/refused-request.ts);
 * - executed mutations are audited by their resolvers, which find the audit log bound to the
 *   request context here (`auditLogOf`) and know every step and Graph request-id.
 */

/**
 * Refusals that happen before any resolver runs; the resolvers cannot see these. The limits'
 * refusal counts too: a key holding Users.Terminate that asked to disable 99 accounts in one
 * request was refused for the upstream budget and left no audit event, so the attempt was
 * invisible to a SIEM. So do variables that do not fit their types (graphql-js refuses the
 * operation before executing any field): before, `disableAccount(input: $in)` with `true` for
 * `$in.user` left no event, although a malformed `user` string reaching the resolver does.
 */
const REFUSALS = new Set<string>([
  ErrorCode.UNSUPPORTED_DEPLOYMENT_MODE,
  ErrorCode.UNSUPPORTED_GRAPH_IDENTITY,
  ErrorCode.FORBIDDEN,
  ErrorCode.OPERATION_TOO_COMPLEX,
  ErrorCode.BAD_USER_INPUT,
]);

/**
 * Apollo's code for a document that fails validation: a mutation's input that does not fit the
 * schema, written into the document (`disableAccount(input: {user: true})`), is the same mistake as
 * a variable that does not coerce, so it is audited as BAD_USER_INPUT too, the code the caller sees
 * (src/graphql/format-error.ts). Such a document may name fields the schema does not have: only
 * mutation fields of the schema are audited, so no name of the caller's becomes an event or a
 * metric label.
 */
const VALIDATION_FAILED = 'GRAPHQL_VALIDATION_FAILED';

/**
 * graphql-js's refusal of a document past `parseOptions.maxTokens` (src/gateway.ts), as Apollo's
 * SyntaxError carries it. The caller is answered BAD_USER_INPUT (reason GRAPHQL_PARSE_FAILED); the
 * event says OPERATION_TOO_COMPLEX, the limit it crossed. graphql 16 writes "more that"; "than"
 * too, should a later release correct it. Anchored, so a syntax error quoting a string of the
 * caller's cannot pass for it.
 */
const TOKEN_LIMIT = /^Syntax Error: Document contains more tha[nt] \d+ tokens\. Parsing aborted\.$/;

export { UNPARSED_DOCUMENT_OPERATION } from './refused-request.js';

/**
 * Most events one refused document writes. Refusals come before the operation limits (a caller
 * without the permission learns nothing from them, docs/security.md#permissions), so the alias
 * limit does not bound a refused document: any caller with a credential, holding no mutation
 * permission, sent 330 aliased mutation fields in one 87 KB request and got 330 audit events
 * (210 KB of audit log, as many SIEM alerts). Identical fields (same mutation, same target) are
 * one event; past this many, the last event says how many more were refused.
 */
export const MAX_REFUSAL_EVENTS = 20;

const bound = new WeakMap<object, AuditLog>();

/**
 * Whether an audit event was written for a request, shared by its context and the shallow copy
 * Apollo makes of it for each operation (so a WeakMap keyed by either object cannot tell).
 */
export interface AuditTrail {
  written: boolean;
}

export function newAuditTrail(): AuditTrail {
  return { written: false };
}

const trailOf = (contextValue: object) => (contextValue as { auditTrail?: AuditTrail }).auditTrail;

/** Binds `log` to the request context; an event written through it marks the context's `auditTrail`. */
export function bindAuditLog(contextValue: object, log: AuditLog): void {
  const trail = trailOf(contextValue);
  bound.set(contextValue, {
    emit(event) {
      if (trail) trail.written = true;
      return log.emit(event);
    },
  });
}

/**
 * Whether any audit event was written for this request (by this plugin or a resolver): the HTTP
 * layer audits a mutation document Apollo refused without one (src/server.ts, src/audit/refused-request.ts).
 */
export function wasAudited(contextValue: object): boolean {
  return trailOf(contextValue)?.written === true;
}

/** The audit log of this request; mutations refuse to run without one (no unaudited writes). */
export function auditLogOf(contextValue: object): AuditLog {
  const log = bound.get(contextValue);
  if (!log) {
    throw new GatewayError(ErrorCode.INTERNAL_SERVER_ERROR, 'Mutations are unavailable: the gateway was started without its audit plugin.');
  }
  return log;
}

export interface AuditPluginDeps {
  auditLog: AuditLog;
  /** Defaults to `contextValue.caller`. */
  callerOf?: (contextValue: unknown) => Caller | undefined;
  /** Defaults to `contextValue.correlationId`. */
  correlationIdOf?: (contextValue: unknown) => string | undefined;
}

/** The public code of an error, looking through Apollo's ValidationError wrapper. */
export function publicCodeOf(error: GraphQLError): string | undefined {
  const original = error.originalError;
  if (original instanceof GraphQLError && typeof original.extensions.code === 'string') return original.extensions.code;
  return typeof error.extensions.code === 'string' ? error.extensions.code : undefined;
}

export function auditPlugin<TContext extends object>(deps: AuditPluginDeps): ApolloServerPlugin<TContext> {
  const callerOf = deps.callerOf ?? ((ctx: unknown) => (ctx as { caller?: Caller }).caller);
  const correlationIdOf = deps.correlationIdOf ?? ((ctx: unknown) => (ctx as { correlationId?: string }).correlationId);
  return {
    async requestDidStart(start) {
      bindAuditLog(start.contextValue, deps.auditLog);
      const auditLog = auditLogOf(start.contextValue);
      return {
        async didEncounterErrors(rc: GraphQLRequestContext<TContext>) {
          const caller = auditCaller(callerOf(rc.contextValue));
          const correlationId = correlationIdOf(rc.contextValue);
          if (!rc.document) {
            // Refused by the parser. At its token limit the event says OPERATION_TOO_COMPLEX, the
            // limit it crossed; a plain syntax error is audited by the HTTP layer with the code the
            // caller gets (src/server.ts). Either way only for a document that reads as a mutation.
            if (!rc.errors?.some((e) => TOKEN_LIMIT.test(e.message)) || rc.source === undefined) return;
            auditRefusedRequest(auditLog, new Set(Object.keys(rc.schema.getMutationType()?.getFields() ?? {})), {
              documents: [{ document: rc.source, operationName: rc.request.operationName }],
              code: ErrorCode.OPERATION_TOO_COMPLEX,
              caller: callerOf(rc.contextValue),
              clientAddress: undefined,
              correlationId,
            });
            return;
          }
          const reason = refusalReasonOf(rc.errors ?? []);
          if (!reason) return;
          const operation = getOperationAST(rc.document, rc.request.operationName ?? null);
          if (!operation || operation.operation !== 'mutation') return;
          const operationName = auditOperationName(operation.name?.value);
          const mutationFields = rc.schema.getMutationType()?.getFields() ?? {};
          const refused = new Map<string, { operation: string; targetUser: string | undefined }>();
          for (const field of rootFields(rc.document, operation.selectionSet)) {
            if (!Object.hasOwn(mutationFields, field.name)) continue;
            const targetUser = targetOf(field.input, rc.request.variables ?? {});
            refused.set(`${field.name}\u0000${targetUser ?? ''}`, { operation: field.name, targetUser });
          }
          const listed = [...refused.values()].slice(0, MAX_REFUSAL_EVENTS);
          const unlisted = refused.size - listed.length;
          for (const [index, { operation: field, targetUser }] of listed.entries()) {
            auditLog.emit({
              operation: field,
              operationName,
              outcome: 'refused',
              reason,
              caller,
              ...(targetUser ? { targetUser } : {}),
              steps: [],
              requestIds: [],
              ...(correlationId ? { correlationId } : {}),
              ...(unlisted > 0 && index === listed.length - 1 ? { unlistedRefusals: unlisted } : {}),
            });
          }
        },
      };
    },
  };
}

/**
 * Why a document was refused before any resolver ran, or nothing. Errors with a path come from
 * execution: the resolver involved audits those itself. A refusal of our own (a permission, a
 * limit) says more than a validation failure reported with it.
 */
function refusalReasonOf(errors: readonly GraphQLError[]): string | undefined {
  const codes = errors.filter((e) => e.path === undefined).map((e) => publicCodeOf(e) ?? '');
  return codes.find((code) => REFUSALS.has(code)) ?? (codes.includes(VALIDATION_FAILED) ? ErrorCode.BAD_USER_INPUT : undefined);
}

interface RootField {
  name: string;
  input: ValueNode | undefined;
}

/** Root mutation fields, through fragments and inline fragments, each once per selection. */
function rootFields(document: DocumentNode, selectionSet: SelectionSetNode, seen = new Set<string>()): RootField[] {
  const out: RootField[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      out.push({ name: selection.name.value, input: selection.arguments?.find((a) => a.name.value === 'input')?.value });
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      out.push(...rootFields(document, selection.selectionSet, seen));
    } else {
      const name = selection.name.value;
      if (seen.has(name)) continue;
      seen.add(name);
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name);
      if (fragment && fragment.kind === Kind.FRAGMENT_DEFINITION) out.push(...rootFields(document, fragment.selectionSet, seen));
    }
  }
  return out;
}

/**
 * `input.user` (or the new user's UPN) as the resolvers would address it: an object id or a
 * userPrincipalName (src/graphql/user-id.ts), else nothing; no other part of the input is read.
 * A refused document is never validated further, and its text is the caller's.
 */
function targetOf(input: ValueNode | undefined, variables: Record<string, unknown>): string | undefined {
  return addressableUserKey(rawTargetOf(input, variables));
}

function rawTargetOf(input: ValueNode | undefined, variables: Record<string, unknown>): string | undefined {
  if (!input) return undefined;
  const pick = (record: Record<string, unknown> | undefined) => {
    const value = record?.user ?? record?.userPrincipalName;
    return typeof value === 'string' ? value : undefined;
  };
  if (input.kind === Kind.VARIABLE) {
    const value = variables[input.name.value];
    return typeof value === 'object' && value !== null ? pick(value as Record<string, unknown>) : undefined;
  }
  if (input.kind !== Kind.OBJECT) return undefined;
  const field = input.fields.find((f) => f.name.value === 'user' || f.name.value === 'userPrincipalName');
  if (!field) return undefined;
  if (field.value.kind === Kind.STRING) return field.value.value;
  if (field.value.kind === Kind.VARIABLE) {
    const value = variables[field.value.name.value];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}
