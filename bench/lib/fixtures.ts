/**
 * Which users each scenario touches, chosen deterministically from the seeded tenant (same seed, same
 * choice), so request counts are reproducible and the org chart has three real levels.
 */
import type { TenantModel } from '../../src/emulator/model.js';

export interface BenchFixtures {
  /** Scenario 2: 50 users for the profile cards. */
  cardUserIds: string[];
  /** Scenario 3: users looked up one at a time (cycled). */
  lookupUserIds: string[];
  /** Scenario 4: root of the org chart and its direct reports (at most 20, so one page each). */
  orgChartRootId: string;
  orgChartReportIds: string[];
  /** Scenario 5: users without directory roles whose sessions are terminated (and accounts disabled). */
  containmentUserIds: string[];
}

/** Largest direct-report list Graph returns in one `$expand` (and the page the scenarios ask for). */
export const REPORTS_PAGE = 20;

export function pickFixtures(tenant: TenantModel): BenchFixtures {
  const users = [...tenant.users.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const reportsOf = new Map<string, string[]>();
  for (const u of users) {
    if (!u.managerId) continue;
    const list = reportsOf.get(u.managerId) ?? [];
    list.push(u.id);
    reportsOf.set(u.managerId, list);
  }
  // The org chart root: the manager whose reports fit one page and who has the most reports' reports.
  let root: { id: string; reports: string[]; grand: number } | undefined;
  for (const [managerId, reports] of reportsOf) {
    if (reports.length > REPORTS_PAGE) continue;
    const grand = reports.reduce((sum, r) => sum + Math.min(REPORTS_PAGE, reportsOf.get(r)?.length ?? 0), 0);
    if (!root || grand > root.grand || (grand === root.grand && managerId < root.id)) root = { id: managerId, reports, grand };
  }
  if (!root || root.grand === 0) throw new Error('the tenant has no three-level org chart with at most 20 reports per manager');

  const every = (step: number, count: number) =>
    users
      .filter((_, i) => i % step === 0)
      .slice(0, count)
      .map((u) => u.id);
  const adminId = tenant.wellKnown.adminUserId;
  const containment = users
    .filter((u) => u.id !== adminId && u._directoryRoles.length === 0 && u.userType === 'Member' && !reportsOf.has(u.id))
    .slice(-20)
    .map((u) => u.id);
  if (containment.length < 20) throw new Error('the tenant has fewer than 20 users without roles for the containment scenario');
  return {
    cardUserIds: every(20, 50),
    lookupUserIds: every(5, 200),
    orgChartRootId: root.id,
    orgChartReportIds: [...root.reports],
    containmentUserIds: containment,
  };
}
