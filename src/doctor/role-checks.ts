import type { GraphClient } from '../graph/client.js';
import { continuationShapes, readPage, type ContinuationShape } from '../graph/paging.js';
import { graphPaths } from '../graph/paths.js';
import type { FeatureAvailability } from './enabled-features.js';
import {
  ROLE_READ_OPERATIONS,
  leastToGrant,
  roleNameOfTemplate,
  satisfyingSet,
  type DirectoryRoleName,
  type GrantKind,
  type RoleRequirement,
} from './feature-permissions.js';
import { grantAdvice } from './permission-checks.js';
import { grantText, type Check } from './report.js';
import type { TokenClaims } from './token-claims.js';

/** The directory roles the acting identity holds, or why they could not be read. */
export type HeldRoles =
  | { known: true; roles: ReadonlySet<string>; holder: string; requestId: string | undefined }
  | { known: false; holder: string; reason: string; grant?: ReturnType<typeof grantAdvice> };

interface RoleAssignmentItem {
  roleDefinitionId?: string;
  directoryScopeId?: string;
  roleDefinition?: { displayName?: string; templateId?: string } | null;
}

function roleNameOf(item: RoleAssignmentItem): string | undefined {
  const byTemplate = roleNameOfTemplate(item.roleDefinition?.templateId ?? item.roleDefinitionId ?? '');
  return byTemplate ?? item.roleDefinition?.displayName ?? undefined;
}

/**
 * App-only: the app's service principal (which it may always read about itself), then its role
 * assignments at tenant scope. Delegated: the signed-in user's directory roles. Reading either
 * needs permissions the gateway itself does not; without them the answer is "could not check".
 */
export async function readHeldRoles(graph: GraphClient, kind: GrantKind, claims: TokenClaims, granted: ReadonlySet<string>): Promise<HeldRoles> {
  if (kind === 'application') {
    const appId = claims.appId ?? '';
    let spId = claims.objectId;
    let holder = `the service principal of app ${appId}`;
    if (appId) {
      const sp = await graph.request<{ id?: string; displayName?: string }>({
        method: 'GET',
        path: graphPaths.servicePrincipalByAppId(appId),
        query: { $select: 'id,displayName' },
      });
      if (sp.ok && sp.body?.id) {
        spId = sp.body.id;
        holder = `the service principal ${sp.body.id} of app ${appId}`;
      }
    }
    if (!spId) return { known: false, holder, reason: 'the token names no service principal' };
    const sets = ROLE_READ_OPERATIONS.roleAssignments.application;
    const result = await graph.request<{ value?: RoleAssignmentItem[] }>({
      method: 'GET',
      path: graphPaths.directoryRoleAssignments(),
      query: { $filter: `principalId eq '${spId.replace(/'/g, "''")}'`, $expand: 'roleDefinition' },
    });
    if (!result.ok) {
      const missing = satisfyingSet(sets, granted) ? [] : leastToGrant(sets, granted);
      return {
        known: false,
        holder,
        reason: `reading its role assignments was refused (${result.status ?? 'no answer'}${result.requestId ? `, request-id ${result.requestId}` : ''})`,
        ...(missing.length > 0 ? { grant: grantAdvice(missing, 'application') } : {}),
      };
    }
    const every = await everyPage<RoleAssignmentItem>(graph, result, continuationShapes.roleAssignments, false);
    if (!every.ok) return { known: false, holder, reason: `reading its role assignments past the first page failed (${every.reason})` };
    // Only tenant-wide assignments count: one scoped to an administrative unit covers only its members.
    const roles = new Set(
      every.items
        .filter((a) => (a.directoryScopeId ?? '/') === '/')
        .map(roleNameOf)
        .filter((r): r is string => r !== undefined),
    );
    return { known: true, roles, holder, requestId: result.requestId };
  }
  const holder = `the signed-in user ${claims.username ?? claims.objectId ?? ''}`.trim();
  const sets = ROLE_READ_OPERATIONS.myDirectoryRoles.delegated;
  const result = await graph.request<{ value?: Array<{ displayName?: string; roleTemplateId?: string }> }>({
    method: 'GET',
    path: graphPaths.myDirectoryRoles(),
    // An OData cast is an advanced query (docs/graph-facts.md#listing-users).
    query: { $count: 'true', $select: 'displayName,roleTemplateId' },
    headers: { ConsistencyLevel: 'eventual' },
  });
  if (!result.ok) {
    const missing = satisfyingSet(sets, granted) ? [] : leastToGrant(sets, granted);
    return {
      known: false,
      holder,
      reason: `reading the user's directory roles was refused (${result.status ?? 'no answer'})`,
      ...(missing.length > 0 ? { grant: grantAdvice(missing, 'delegated') } : {}),
    };
  }
  const every = await everyPage<{ displayName?: string; roleTemplateId?: string }>(graph, result, continuationShapes.directoryRoles, true);
  if (!every.ok) return { known: false, holder, reason: `reading the user's directory roles past the first page failed (${every.reason})` };
  const items = every.items;
  // A token that reaches the call but reads no directory roles gets them with limited information
  // (type and id, the rest null; docs/graph-facts.md#writes-and-permissions): which roles they are is unknown.
  const limited = items.filter((r) => !r.roleTemplateId && !r.displayName).length;
  if (limited > 0) {
    const missing = leastToGrant(ROLE_NAMES_READERS, granted);
    return {
      known: false,
      holder,
      reason: `Graph listed ${limited} of the user's directory roles with limited information (type and id only), so which roles they are is not known`,
      ...(missing.length > 0 ? { grant: grantAdvice(missing, 'delegated') } : {}),
    };
  }
  const roles = new Set(items.map((r) => roleNameOfTemplate(r.roleTemplateId ?? '') ?? r.displayName ?? undefined).filter((r): r is string => r !== undefined));
  return { known: true, roles, holder, requestId: result.requestId };
}

/**
 * The items of a list and of every page after it: Graph may answer a filtered list in pages, an empty
 * one included, before the page that holds the role (docs/graph-facts.md#paging), and reading the
 * first page alone said "no role" for an identity that holds one.
 */
async function everyPage<T>(
  graph: GraphClient,
  first: { body: unknown; requestId: string | undefined },
  shape: ContinuationShape,
  advanced: boolean,
): Promise<{ ok: true; items: T[] } | { ok: false; reason: string }> {
  try {
    return { ok: true, items: await graph.followPages(readPage<T>(first.body, first.requestId, false), shape, { advanced }) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * What lists directory roles in full to a signed-in user: Directory.Read.All, as the memberOf pages and
 * Microsoft's troubleshooting article on null memberOf properties name (directoryrole-get also lists
 * RoleManagement.Read.Directory; the emulator takes the narrower reading, docs/graph-facts.md#writes-and-permissions).
 */
const ROLE_NAMES_READERS = [['Directory.Read.All'], ['Directory.ReadWrite.All']] as const;

function needsRole(requirement: RoleRequirement): boolean {
  return requirement.allTargets.length > 0 || requirement.nonAdminTargets.length > 0;
}

/**
 * One line per enabled feature that needs an Entra role: ok when a role covering every user is
 * held, ok with a warning when only non-admin users are covered, missing when none is held.
 */
export function roleChecks(availability: readonly FeatureAvailability[], kind: GrantKind, held: HeldRoles): Check[] {
  const checks: Check[] = [];
  const assignee = kind === 'application' ? "the app's service principal" : 'the signed-in user';
  for (const entry of availability) {
    if (entry.state !== 'enabled') continue;
    const requirement = entry.feature.roles[kind];
    if (!needsRole(requirement)) continue;
    const id = `role:${entry.feature.id}`;
    const wanted = [...requirement.nonAdminTargets, ...requirement.allTargets] as DirectoryRoleName[];
    const describe = () =>
      requirement.nonAdminTargets.length > 0
        ? `${requirement.nonAdminTargets.join(' or ')} (users without admin roles) or ${requirement.allTargets.join(' or ')} (every user, administrators included)`
        : requirement.allTargets.join(' or ');
    if (!held.known) {
      checks.push({
        id,
        status: 'unchecked',
        message: `${entry.feature.id}: could not read the Entra roles of ${held.holder}: ${held.reason}${held.grant ? `; grant ${grantText(held.grant)} so the doctor can check` : ''}; make sure ${assignee} holds ${describe()} (Entra admin center → Roles and administrators)`,
        ...(held.grant ? { grant: held.grant } : {}),
        assignRoles: wanted,
      });
      continue;
    }
    const all = requirement.allTargets.find((r) => held.roles.has(r));
    const some = requirement.nonAdminTargets.find((r) => held.roles.has(r));
    if (all) checks.push({ id, status: 'ok', message: `${entry.feature.id}: ${held.holder} holds ${all}: it may act on every user` });
    else if (some)
      checks.push({
        id,
        status: 'ok',
        message: `${entry.feature.id}: ${held.holder} holds ${some}: it may act on users without admin roles only; assign ${requirement.allTargets[0]} to act on administrators too`,
      });
    else
      checks.push({
        id,
        status: 'missing',
        message: `${entry.feature.id}: assign the Entra role ${describe()} to ${assignee} (${held.holder}); it holds ${held.roles.size > 0 ? [...held.roles].join(', ') : 'no directory role'}`,
        assignRoles: [requirement.nonAdminTargets[0] ?? requirement.allTargets[0]!],
      });
  }
  return checks;
}
