import {
  Kind,
  TypeInfo,
  getDirectiveValues,
  isInterfaceType,
  isObjectType,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { Caller } from '../../identity/types.js';
import { ALL_PERMISSIONS, isPermission, type Permission } from '../../permissions.js';
import { ErrorCode, GatewayError } from '../../errors.js';

/**
 * Caller permissions per field, declared in the SDL with
 * `@requiresPermission(permission: "Users.Terminate")` so the requirement is visible where the
 * field is. Every root field declares one (reads included: a valid token or key alone reads
 * nothing), and so do the User fields that reveal more than a profile. Checked for the whole
 * operation before execution (permission plugin) and again by each resolver (defence in depth: a
 * resolver is never reachable without its check).
 */

export const PERMISSION_DIRECTIVE = 'requiresPermission';

// A field object belongs to one schema and never changes: its directive is read once, not per
// mutation (every audited resolver asks).
const fieldPermissions = new WeakMap<object, Permission | null>();

/** A field definition as graphql-js has it: GraphQLField, or a GraphQLFieldConfig with its name. */
interface FieldLike {
  name: string;
  astNode?: GraphQLField<unknown, unknown>['astNode'];
  extensions?: GraphQLField<unknown, unknown>['extensions'] | null;
}

export function requiredPermission(field: FieldLike, schema: GraphQLSchema): Permission | undefined {
  const known = fieldPermissions.get(field);
  if (known !== undefined) return known ?? undefined;
  const permission = readRequiredPermission(field, schema);
  fieldPermissions.set(field, permission ?? null);
  return permission;
}

function readRequiredPermission(field: FieldLike, schema: GraphQLSchema): Permission | undefined {
  const directive = schema.getDirective(PERMISSION_DIRECTIVE);
  const declared = directive && field.astNode ? getDirectiveValues(directive, field.astNode)?.permission : undefined;
  // Fields a library adds to the schema (the federation entry points `_entities` and `_service`)
  // have no SDL of ours to carry the directive: they name their permission in a field extension.
  const value = declared ?? (field.extensions as Record<string, unknown> | null | undefined)?.[PERMISSION_DIRECTIVE];
  if (value === undefined) return undefined;
  if (!isPermission(value)) {
    // A typo in the SDL must not silently make a field public.
    throw new TypeError(`@${PERMISSION_DIRECTIVE} on ${field.name} names ${JSON.stringify(value)}, which is not one of ${ALL_PERMISSIONS.join(', ')}.`);
  }
  return value;
}

/**
 * Fails at start-up when any field names an unknown permission, or when a root field (Query,
 * Mutation, Subscription) declares none: a new entry point cannot be added without saying who may
 * use it.
 */
export function assertPermissionDirectives(schema: GraphQLSchema): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(isObjectType(type) || isInterfaceType(type)) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) requiredPermission(field, schema);
  }
  const undeclared: string[] = [];
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!root) continue;
    for (const field of Object.values(root.getFields())) {
      if (!requiredPermission(field, schema)) undeclared.push(`${root.name}.${field.name}`);
    }
  }
  if (undeclared.length > 0) {
    throw new TypeError(
      `${undeclared.join(', ')} declare${undeclared.length === 1 ? 's' : ''} no @${PERMISSION_DIRECTIVE}: every root field must name the gateway permission a caller needs (one of ${ALL_PERMISSIONS.join(', ')}).`,
    );
  }
}

export interface MissingPermission {
  /** `Mutation.terminateSession` */
  coordinate: string;
  permission: Permission;
}

/** Every privileged field the operation selects (through fragments and aliases) that the caller may not use. */
export function missingPermissions(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  caller: Pick<Caller, 'permissions'>,
): MissingPermission[] {
  return requirementsOf(schema, document, operation).filter((required) => !caller.permissions.has(required.permission));
}

// What an operation requires depends only on the schema and the document, not on the caller: it is
// worked out once per parsed document (Apollo reuses the DocumentNode of a query it has seen), so
// a repeated operation costs a filter over a short list instead of a typed walk of the document.
const requirementsCache = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, WeakMap<OperationDefinitionNode, readonly MissingPermission[]>>>();

function requirementsOf(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): readonly MissingPermission[] {
  let byDocument = requirementsCache.get(schema);
  if (!byDocument) requirementsCache.set(schema, (byDocument = new WeakMap()));
  let byOperation = byDocument.get(document);
  if (!byOperation) byDocument.set(document, (byOperation = new WeakMap()));
  let required = byOperation.get(operation);
  if (!required) byOperation.set(operation, (required = collectRequirements(schema, document, operation)));
  return required;
}

/** Every privileged field the operation selects, with the permission it needs. */
function collectRequirements(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): MissingPermission[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const reachable: Array<OperationDefinitionNode | FragmentDefinitionNode> = [operation];
  const seen = new Set<string>();
  for (let i = 0; i < reachable.length; i++) {
    visit(reachable[i]!, {
      FragmentSpread(node) {
        const name = node.name.value;
        const fragment = fragments.get(name);
        if (fragment && !seen.has(name)) {
          seen.add(name);
          reachable.push(fragment);
        }
      },
    });
  }
  const required = new Map<string, MissingPermission>();
  for (const node of reachable) {
    const typeInfo = new TypeInfo(schema);
    visit(
      node,
      visitWithTypeInfo(typeInfo, {
        Field() {
          const field = typeInfo.getFieldDef();
          const parent = typeInfo.getParentType();
          if (!field || !parent) return;
          const permission = requiredPermission(field, schema);
          if (permission) {
            const coordinate = `${parent.name}.${field.name}`;
            required.set(coordinate, { coordinate, permission });
          }
        },
      }),
    );
  }
  return [...required.values()];
}

export function forbiddenError(missing: MissingPermission[]): GatewayError {
  const list = missing.map((m) => `${m.coordinate} needs ${m.permission}`).join('; ');
  return new GatewayError(
    ErrorCode.FORBIDDEN,
    `The caller lacks a gateway permission this operation needs (${list}), so nothing was executed. Grant the app role or API key permission named, or leave the field out.`,
    {
      requiredPermissions: [...new Set(missing.map((m) => m.permission))],
      fields: missing.map((m) => m.coordinate),
      http: { status: 403 },
    },
  );
}

/** Resolver-level check: throws FORBIDDEN unless the caller holds `permission`. */
export function assertCallerMay(caller: Pick<Caller, 'permissions'> | undefined, permission: Permission, coordinate: string): void {
  if (!caller || !caller.permissions.has(permission)) {
    const error = forbiddenError([{ coordinate, permission }]);
    delete (error.extensions as Record<string, unknown>).http;
    throw error;
  }
}
