import type { Resolvers } from '../../generated/graphql.js';
import { DateTimeScalar, EmailAddressScalar } from '../scalars.js';
import { authenticationMethodResolvers } from './authentication-methods.js';
import { queryResolvers } from './query.js';
import { userResolvers } from './user.js';

const totalCount = { totalCount: (c: { totalCount: () => Promise<number | null> | number | null }) => c.totalCount() };

/** Every resolver of the read API. Mutations (a later issue) merge theirs next to these. */
export const readResolvers: Resolvers = {
  DateTime: DateTimeScalar,
  EmailAddress: EmailAddressScalar,
  Query: queryResolvers,
  User: userResolvers,
  UserConnection: totalCount,
  GroupConnection: totalCount,
  DeviceConnection: totalCount,
  Group: {
    groupTypes: (group) => (Array.isArray(group.groupTypes) ? (group.groupTypes as string[]) : []),
  },
  RemovedUser: {
    reason: (removed) => (removed.reason === 'deleted' ? 'DELETED' : 'CHANGED'),
  },
  ...authenticationMethodResolvers,
};
