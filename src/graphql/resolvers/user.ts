import type { GraphDirectoryObject } from '../../graph/api.js';
import type { UserResolvers } from '../../generated/graphql.js';
import { fetchConnectionPage, validateFirst } from '../connection.js';
import { expandedManagerId, expandedManagerIsNotAUser, expandedManagerOf } from '../manager-expansion.js';
import type { FieldNode } from 'graphql';
import {
  connectionNodeFields,
  DEVICE_FIELD_TO_GRAPH,
  GROUP_FIELD_TO_GRAPH,
  planUserConnection,
  planUserSelection,
  selectProperties,
  type ConnectionSelectionPlan,
  type UserSelectionPlan,
} from '../select.js';
import { authMethodReadKind, authMethodTypeOf } from './authentication-methods.js';
import { createPlanCache, memoizedPlan } from './plan-memo.js';

const managerPlans = createPlanCache<FieldNode, UserSelectionPlan>();
const reportPlans = createPlanCache<FieldNode, ConnectionSelectionPlan<UserSelectionPlan>>();

export const userResolvers: UserResolvers = {
  businessPhones: (user) => (Array.isArray(user.businessPhones) ? (user.businessPhones as string[]) : []),

  // Not `async`: an expanded manager is answered synchronously, so graphql-js completes a page of
  // users (scenario 1 of docs/benchmark.md: 100 of them) without a promise per user.
  manager: (user, _args, ctx, info) => {
    const { select } = memoizedPlan(managerPlans, info, () => planUserSelection(info, info.fieldNodes));
    // A contact as manager is not a User: null, as when there is none.
    if (expandedManagerIsNotAUser(user)) return null;
    const expanded = expandedManagerOf(user, select);
    if (expanded !== undefined) return expanded;
    // Expanded without every selected property (Graph ignored the nested $select): its id is known.
    const managerId = expandedManagerId(user);
    if (managerId !== undefined) return ctx.loaders.user.load({ key: managerId, select });
    return ctx.loaders.managerOf.load({ key: user.id, select });
  },

  directReports: async (user, args, ctx, info) => {
    const first = validateFirst(args.first);
    const { node } = memoizedPlan(reportPlans, info, () => planUserConnection(info, info.fieldNodes));
    return fetchConnectionPage({
      kind: `directReports:${user.id}`,
      first,
      after: args.after,
      cursors: ctx.cursors,
      advanced: false,
      select: node.select,
      fetch: async (request) =>
        request.kind === 'first'
          ? ctx.loaders.directReportsOf.load({ key: user.id, select: node.select, top: request.top })
          : ctx.graph.listDirectReports(user.id, request),
    });
  },

  memberOf: async (user, args, ctx, info) => {
    const first = validateFirst(args.first);
    const { nodes } = connectionNodeFields(info, info.fieldNodes, 'GroupConnection', 'GroupEdge');
    const select = selectProperties(info, nodes, 'Group', GROUP_FIELD_TO_GRAPH);
    return fetchConnectionPage({
      kind: `memberOf:${user.id}`,
      first,
      after: args.after,
      cursors: ctx.cursors,
      advanced: false,
      select,
      // The first page of every parent's memberships shares one $batch run; later pages follow the cursor.
      fetch: async (request) =>
        request.kind === 'first' ? ctx.loaders.membershipsOf.load({ key: user.id, select, top: request.top }) : ctx.graph.listMemberOf(user.id, request),
    });
  },

  ownedDevices: async (user, args, ctx, info) => {
    const first = validateFirst(args.first);
    const { nodes } = connectionNodeFields(info, info.fieldNodes, 'DeviceConnection', 'DeviceEdge');
    const select = selectProperties(info, nodes, 'Device', DEVICE_FIELD_TO_GRAPH);
    return fetchConnectionPage<GraphDirectoryObject>({
      kind: `ownedDevices:${user.id}`,
      first,
      after: args.after,
      cursors: ctx.cursors,
      advanced: false,
      select,
      fetch: (request) =>
        request.kind === 'first' ? ctx.loaders.ownedDevicesOf.load({ key: user.id, select, top: request.top }) : ctx.graph.listOwnedDevices(user.id, request),
    });
  },

  authenticationMethods: async (user, args, ctx) => {
    const kind = authMethodReadKind(args.type);
    // Every parent's first page in one $batch run; the rare further pages are followed per user.
    const methods = await ctx.loaders.authMethodsOf.load({ key: user.id, kind });
    // Types this schema does not model yet (Graph adds new ones) are left out rather than failing;
    // with a `type`, only that type (QR code PIN is read from the mixed collection).
    return methods.filter((m) => {
      const type = authMethodTypeOf(m);
      return type !== null && (!args.type || type === args.type);
    });
  },
};
