import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { Caller } from '../../identity/types.js';
import { assertCallerMay, requiredPermission } from './requirements.js';

/**
 * The resolver half of the permission check: every field that declares `@requiresPermission`
 * checks the caller before its resolver runs, so no code path that skips the permission plugin
 * (another Apollo setup, a test harness, a future transport) can read what the field guards.
 * Root Mutation fields are left alone: their audited resolvers check the same directive and
 * record the refusal in the audit trail.
 */
export function withPermissionGuards(
  schema: GraphQLSchema,
  callerOf: (contextValue: unknown) => Pick<Caller, 'permissions'> | undefined = defaultCallerOf,
): GraphQLSchema {
  const mutationType = schema.getMutationType()?.name;
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig, fieldName, typeName) => {
      if (typeName === mutationType) return fieldConfig;
      const permission = requiredPermission({ name: fieldName, astNode: fieldConfig.astNode }, schema);
      if (!permission) return fieldConfig;
      const resolve: GraphQLFieldResolver<unknown, unknown> = fieldConfig.resolve ?? defaultFieldResolver;
      const coordinate = `${typeName}.${fieldName}`;
      return {
        ...fieldConfig,
        resolve: (source, args, contextValue, info) => {
          assertCallerMay(callerOf(contextValue), permission, coordinate);
          return resolve(source, args, contextValue, info);
        },
      };
    },
  });
}

function defaultCallerOf(contextValue: unknown): Pick<Caller, 'permissions'> | undefined {
  return (contextValue as { caller?: Caller } | null)?.caller;
}
