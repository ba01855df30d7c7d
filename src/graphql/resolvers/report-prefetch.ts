import { getArgumentValues, isObjectType, type FieldNode, type GraphQLResolveInfo } from 'graphql';
import type { GraphLoaders, GraphPage, GraphUser } from '../../graph/api.js';
import { MAX_PAGE_SIZE } from '../../graph/requests.js';
import { collectSubfields, planUserConnection } from '../select.js';

/**
 * Graph addresses `/users/{id-or-upn}/directReports` without knowing the user's object id, so a
 * `user(id:)` that selects `directReports` can ask for the first page of reports in the same tick
 * as the user itself: both ride the same `$batch` round instead of two round trips in a row. The
 * keys are exactly those the `User.directReports` resolver will load (same `$select` and `top`),
 * so it answers from the loader cache.
 */

type ReportsKey = Parameters<GraphLoaders['directReportsOf']['load']>[0];

/** What a planned first page asks for, whoever the user is. */
export type PlannedReportPage = Pick<ReportsKey, 'select' | 'top'>;

/**
 * The first pages (`$select` and `top`) the `directReports` selections under this `user` field will
 * ask for: a function of the field's selection set and the variables only, so it can be memoized.
 */
export function plannedFirstPageReports(info: GraphQLResolveInfo): PlannedReportPage[] {
  const reportNodes = collectSubfields(info, info.fieldNodes, 'User').get('directReports');
  if (!reportNodes) return [];
  const userType = info.schema.getType('User');
  const field = isObjectType(userType) ? userType.getFields().directReports : undefined;
  if (!field) return [];
  // The resolver runs once per response key (alias), with that key's merged field nodes.
  const byResponseKey = new Map<string, FieldNode[]>();
  for (const node of reportNodes) {
    const responseKey = node.alias?.value ?? node.name.value;
    byResponseKey.set(responseKey, [...(byResponseKey.get(responseKey) ?? []), node]);
  }
  const pages: PlannedReportPage[] = [];
  for (const nodes of byResponseKey.values()) {
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(field, nodes[0]!, info.variableValues);
    } catch {
      continue; // the resolver reports bad arguments itself
    }
    if (args.after != null) continue; // a later page follows its cursor's link, not the loader
    const first = args.first ?? 100;
    if (typeof first !== 'number' || !Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) continue;
    const { node } = planUserConnection(info, nodes);
    pages.push({ select: node.select, top: first });
  }
  return pages;
}

/**
 * Starts the planned report pages for `userKey` now; once the user is known, the pages are also
 * filed under its object id (the key the `directReports` resolver uses) when that differs (a UPN).
 * Failures are left to the resolver, which loads again.
 */
export function prefetchReports(loaders: GraphLoaders, keys: readonly ReportsKey[]): (user: GraphUser | null) => Promise<void> | undefined {
  const pages = keys.map((key) =>
    loaders.directReportsOf.load(key).then(
      (page): GraphPage<GraphUser> | undefined => page,
      () => undefined,
    ),
  );
  // Undefined (nothing to wait for) in the usual case: the user was asked for by its object id.
  return (user) => {
    if (!user) return undefined;
    const id = user.id.toLowerCase();
    if (keys.every((key) => key.key.toLowerCase() === id)) return undefined;
    return Promise.all(pages).then((settled) => {
      keys.forEach((key, i) => {
        const page = settled[i];
        if (page && key.key.toLowerCase() !== id) loaders.directReportsOf.prime({ ...key, key: user.id }, page);
      });
    });
  };
}
