import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { Caller } from '../../identity/types.js';
import { assertCallerMay, requiredPermission } from './requirements.js';

/**
 * The resolver half of the permission check: every field that declares `@requiresPermission`
 * checks the caller before its resolver runs, so no code path that skips the permission plugin
 * (another Apollo setup, a test harness, a future transport) can read what the field guards.
 * Root Mutation fields are left alone: their audited resolvers check the same directive and
 * record the refusal in the audit trail.
 *
 * The schema's fields are updated in place (graphql-js field objects hold their resolver), once:
 * a field already guarded is not wrapped again.
 */
const guarded = new WeakSet<GraphQLFieldResolver<unknown, unknown>>();

export function withPermissionGuards(
  schema: GraphQLSchema,
  callerOf: (contextValue: unknown) => Pick<Caller, 'permissions'> | undefined = defaultCallerOf,
): GraphQLSchema {
  const mutationType = schema.getMutationType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type === mutationType || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const permission = requiredPermission(field, schema);
      if (!permission || (field.resolve && guarded.has(field.resolve))) continue;
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      const coordinate = `${type.name}.${field.name}`;
      const guard: GraphQLFieldResolver<unknown, unknown> = (source, args, contextValue, info) => {
        assertCallerMay(callerOf(contextValue), permission, coordinate);
        return resolve(source, args, contextValue, info);
      };
      guarded.add(guard);
      field.resolve = guard;
    }
  }
  return schema;
}

function defaultCallerOf(contextValue: unknown): Pick<Caller, 'permissions'> | undefined {
  return (contextValue as { caller?: Caller } | null)?.caller;
}
