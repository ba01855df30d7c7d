import { badInput } from '../errors.js';
import type { GraphPage } from './api.js';
import { malformedResponse } from './errors.js';
import { graphPaths, type GraphPath } from './paths.js';

/**
 * Continuation links (`@odata.nextLink`, `@odata.deltaLink`) come back from callers inside opaque
 * cursors, so they are untrusted: a link is followed only when it points at the configured Graph
 * endpoint's origin, under `/v1.0/`, at the kind of collection the caller is paging. The request
 * is rebuilt from the validated parts, never sent as the string received.
 */

/** Which collection a continuation may continue; the pattern is matched on the path after `/v1.0`. */
export interface ContinuationShape {
  template: string;
  pattern: RegExp;
}

const USER_SEGMENT = String.raw`(?:users/[^/]+|users\('[^/]+'\)|me)`;

export const continuationShapes = {
  users: { template: '/users', pattern: /^\/users\/?$/i },
  // The delta function under any of the names OData gives it: `delta`, `delta()` and the
  // namespace-qualified `microsoft.graph.delta()` that stored Graph links show (docs/graph-facts.md#delta-query).
  usersDelta: { template: '/users/delta', pattern: /^\/users\/(?:microsoft\.graph\.)?delta(?:\(\))?\/?$/i },
  directReports: { template: '/users/{id}/directReports', pattern: new RegExp(`^/${USER_SEGMENT}/directReports/?$`, 'i') },
  memberOf: { template: '/users/{id}/memberOf', pattern: new RegExp(`^/${USER_SEGMENT}/memberOf(?:/microsoft\\.graph\\.group)?/?$`, 'i') },
  directoryRoles: {
    template: '/users/{id}/transitiveMemberOf/microsoft.graph.directoryRole',
    pattern: new RegExp(`^/${USER_SEGMENT}/transitiveMemberOf/microsoft\\.graph\\.directoryRole/?$`, 'i'),
  },
  // getMemberObjects answers in one String collection (directoryobject-getmemberobjects documents no
  // paging): no link is followed, so a nextLink fails the lookup and the check fails closed.
  memberObjects: { template: '/users/{id}/getMemberObjects', pattern: /(?!)/ },
  roleEligibilities: {
    template: '/roleManagement/directory/roleEligibilityScheduleInstances',
    pattern: /^\/roleManagement\/directory\/roleEligibilityScheduleInstances\/?$/i,
  },
  roleAssignments: { template: '/roleManagement/directory/roleAssignments', pattern: /^\/roleManagement\/directory\/roleAssignments\/?$/i },
  groupEligibilities: {
    template: '/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances',
    pattern: /^\/identityGovernance\/privilegedAccess\/group\/eligibilityScheduleInstances\/?$/i,
  },
  groups: { template: '/groups', pattern: /^\/groups\/?$/i },
  groupOwners: { template: '/groups/{id}/owners', pattern: /^\/groups\/[0-9a-f-]{36}\/owners\/?$/i },
  ownedDevices: { template: '/users/{id}/ownedDevices', pattern: new RegExp(`^/${USER_SEGMENT}/ownedDevices/?$`, 'i') },
  authMethods: { template: '/users/{id}/authentication/{methods}', pattern: new RegExp(`^/${USER_SEGMENT}/authentication/[A-Za-z0-9]+/?$`, 'i') },
} satisfies Record<string, ContinuationShape>;

const MAX_LINK_LENGTH = 8192;

export function validateContinuationLink(link: unknown, graphEndpoint: string | URL, shape: ContinuationShape): GraphPath {
  const refuse = (why: string) => badInput(`The page cursor is not valid: ${why}. Start again from the first page.`);
  if (typeof link !== 'string' || link.length === 0) throw refuse('it holds no link');
  if (link.length > MAX_LINK_LENGTH) throw refuse('it is too long');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f\\]/.test(link)) throw refuse('it contains characters a Graph link never has');
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw refuse('it is not an absolute URL');
  }
  const endpoint = typeof graphEndpoint === 'string' ? new URL(graphEndpoint) : graphEndpoint;
  if (url.origin !== endpoint.origin) {
    throw refuse('it does not point at the configured Microsoft Graph endpoint');
  }
  if (url.username || url.password || url.hash) throw refuse('it carries credentials or a fragment');
  const base = endpoint.pathname.replace(/\/+$/, '');
  const versionRoot = `${base}/v1.0/`;
  if (!url.pathname.startsWith(versionRoot)) throw refuse('it is not a Microsoft Graph v1.0 link');
  // URL parsing has already resolved dot segments (also percent-encoded ones) at this point.
  const path = url.pathname.slice(versionRoot.length - 1);
  if (!shape.pattern.test(path)) throw refuse('it continues a different collection');
  return graphPaths.continuation(path, shape.template, url.search);
}

/** Reads one collection page out of a Graph body. */
export function readPage<T>(body: unknown, requestId: string | undefined, withCount: boolean): GraphPage<T> {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { value?: unknown }).value)) {
    throw malformedResponse('a collection without a value array', requestId);
  }
  const record = body as { value: T[]; '@odata.nextLink'?: unknown; '@odata.count'?: unknown };
  const next = record['@odata.nextLink'];
  const count = record['@odata.count'];
  return {
    items: record.value,
    nextLink: typeof next === 'string' ? next : null,
    count: withCount && typeof count === 'number' ? count : null,
  };
}
