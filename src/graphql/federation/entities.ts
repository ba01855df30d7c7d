import { isUnionType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { badInput, type GatewayError } from '../../errors.js';
import type { UserResolvers } from '../../generated/graphql.js';
import { isGuid } from '../../guid.js';
import { loadPlannedUser } from '../resolvers/user-lookup.js';

/**
 * The entity side of the subgraph: a supergraph router asks `_entities(representations:)` for the
 * Users other subgraphs reference (`{ __typename: "User", id }`), all of one fetch in one field.
 * Each reference resolves through the operation's own `user` loader, exactly like a
 * `user(id:)` field (src/graphql/resolvers/user-lookup.ts): the references of one `_entities`
 * are loaded in the same tick, so N of them with the same selection become one `getByIds`
 * (1000 ids per call) or, with `manager` selected, `$batch` items with `$expand=manager`
 * (20 per POST). A reference to a user that does not exist resolves to null, as Apollo expects.
 */

/** The key is the object id (`@key(fields: "id")`): a User's `id` is always its GUID, so a reference by userPrincipalName is not one. */
export const resolveUserReference: NonNullable<UserResolvers['__resolveReference']> = async (reference, ctx, info) => {
  const id = (reference as { id?: unknown }).id;
  if (typeof id !== 'string' || !isGuid(id.trim())) {
    throw badInput('A User reference must carry `id`, the user\'s object id (a GUID): User is keyed by `@key(fields: "id")`.', {
      argument: 'representations',
    });
  }
  return loadPlannedUser(id.trim().toLowerCase(), ctx, info);
};

const ENTITIES_FIELD = '_entities';

/**
 * Apollo's `_entities` resolver fails the whole field on the first representation whose
 * `__typename` names no entity type, with an internal error. Here every representation is checked
 * first: one that is not an object naming an entity type of this subgraph fails alone, with
 * BAD_USER_INPUT and its position, and the others still resolve (and still batch). The check
 * never echoes the representation: it is the caller's input and may be large.
 */
export function checkEntityRepresentations(schema: GraphQLSchema): void {
  const field = schema.getQueryType()?.getFields()[ENTITIES_FIELD];
  const entityUnion = schema.getType('_Entity');
  if (!field?.resolve || !isUnionType(entityUnion)) return;
  const entityTypes = new Set(entityUnion.getTypes().map((type) => type.name));
  const resolveEntities: GraphQLFieldResolver<unknown, unknown> = field.resolve;
  field.resolve = (source, args: { representations?: unknown }, contextValue, info) => {
    const representations = Array.isArray(args.representations) ? (args.representations as unknown[]) : [];
    return representations.map((representation, index) => {
      const typename = typeof representation === 'object' && representation !== null ? (representation as { __typename?: unknown }).__typename : undefined;
      if (typeof typename !== 'string' || !entityTypes.has(typename)) return notAnEntity(index, [...entityTypes]);
      try {
        return (resolveEntities(source, { representations: [representation] }, contextValue, info) as unknown[])[0];
      } catch (error) {
        return error;
      }
    });
  };
}

function notAnEntity(index: number, entityTypes: string[]): GatewayError {
  return badInput(
    `Representation ${index} of \`_entities\` is not a reference this subgraph resolves: an object with \`__typename\` (one of ${entityTypes.join(', ')}) and its key fields.`,
    { argument: 'representations', index },
  );
}
