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
  if (!isUserKey(id)) {
    throw badInput('A User reference must carry `id`, the user\'s object id (a GUID): User is keyed by `@key(fields: "id")`.', {
      argument: 'representations',
    });
  }
  return loadPlannedUser(id.trim().toLowerCase(), ctx, info);
};

function isUserKey(id: unknown): id is string {
  return typeof id === 'string' && isGuid(id.trim());
}

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
    // One error per bad representation, but not without bound: 30,000 of them (570 KB of input)
    // made a 9 MB answer, 40,000 exhausted a 128 MB heap. A router sends references it got from
    // another subgraph; more than a few bad ones means the whole fetch is wrong, and says so once.
    const bad = badRepresentations(representations, entityTypes, MAX_BAD_REPRESENTATIONS_REPORTED + 1);
    if (bad.length > MAX_BAD_REPRESENTATIONS_REPORTED) throw tooManyBad(representations, entityTypes);
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

/** Past this many bad representations in one `_entities`, the field fails with one error instead of one per representation. */
export const MAX_BAD_REPRESENTATIONS_REPORTED = 20;

/**
 * Indices of representations that cannot resolve (not an object naming an entity type, or a User
 * without a GUID `id`), counted up to `stopAt`.
 */
function badRepresentations(representations: readonly unknown[], entityTypes: ReadonlySet<string>, stopAt: number): number[] {
  const bad: number[] = [];
  for (let index = 0; index < representations.length && bad.length < stopAt; index++) {
    const representation = representations[index];
    const fields = typeof representation === 'object' && representation !== null ? (representation as { __typename?: unknown; id?: unknown }) : undefined;
    const typename = fields?.__typename;
    if (typeof typename !== 'string' || !entityTypes.has(typename)) bad.push(index);
    else if (typename === 'User' && !isUserKey(fields!.id)) bad.push(index);
  }
  return bad;
}

function tooManyBad(representations: readonly unknown[], entityTypes: ReadonlySet<string>): GatewayError {
  const total = badRepresentations(representations, entityTypes, Number.POSITIVE_INFINITY).length;
  return badInput(
    `${total} of the ${representations.length} representations of \`_entities\` are not references this subgraph resolves (an object with \`__typename\`, one of ${[...entityTypes].join(', ')}, and its key fields; User is keyed by its object id). More than ${MAX_BAD_REPRESENTATIONS_REPORTED} fail the whole field.`,
    { argument: 'representations' },
  );
}

function notAnEntity(index: number, entityTypes: string[]): GatewayError {
  return badInput(
    `Representation ${index} of \`_entities\` is not a reference this subgraph resolves: an object with \`__typename\` (one of ${entityTypes.join(', ')}) and its key fields.`,
    { argument: 'representations', index },
  );
}
