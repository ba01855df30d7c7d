import type { FeatureAvailability } from './enabled-features.js';
import { NOT_SUPPORTED, leastToGrant, operationsOf, satisfyingSet, type GrantKind } from './feature-permissions.js';
import type { Check, GrantAdvice } from './report.js';
import { grantText } from './report.js';

const TYPE_NAME: Record<GrantKind, GrantAdvice['type']> = { application: 'Application', delegated: 'Delegated' };

/** Delegated permissions a user may consent to alone; everything else here needs an administrator. */
const USER_CONSENTABLE = new Set(['User.Read', 'openid', 'profile', 'offline_access', 'email']);

export function grantAdvice(permissions: readonly string[], kind: GrantKind): GrantAdvice[] {
  return permissions.map((permission) => ({ permission, type: TYPE_NAME[kind], adminConsent: kind === 'application' || !USER_CONSENTABLE.has(permission) }));
}

/**
 * One line per feature: whether the Graph permissions in the token cover every call the feature
 * makes (any documented higher permission counts), and if not, exactly what to grant.
 */
export function featurePermissionChecks(availability: readonly FeatureAvailability[], kind: GrantKind, granted: ReadonlySet<string>): Check[] {
  return availability.map((entry): Check => {
    const { feature } = entry;
    const id = `feature:${feature.id}`;
    if (entry.state === 'not-available')
      return { id, status: 'not-available', message: `${feature.id} (${feature.title}): not available in this configuration: ${entry.reason}` };
    if (entry.state === 'unused') return { id, status: 'skipped', message: `${feature.id} (${feature.title}): not used: ${entry.reason}` };
    const gaps: Array<{ call: string; grant: GrantAdvice[] }> = [];
    const costlier: string[] = [];
    for (const { operation } of operationsOf(feature)) {
      const sets = kind === 'application' ? operation.application : operation.delegated;
      if (sets === NOT_SUPPORTED) continue; // featureAvailability already made such a feature not-available
      if (satisfyingSet(sets, granted)) {
        const admins = kind === 'delegated' ? operation.delegatedAdminTargets : undefined;
        if (admins && !satisfyingSet(admins, granted)) {
          costlier.push(
            `${operation.call} reaches users without admin roles only: Graph asks ${grantText(grantAdvice(leastToGrant(admins, granted), kind))} of a signed-in user to act on administrators`,
          );
        }
        continue;
      }
      if (operation.fallback && satisfyingSet(operation.fallback.sets, granted)) {
        costlier.push(
          `${operation.call} is refused without ${leastToGrant(sets, granted).join(' + ')}: the gateway uses ${operation.fallback.route}; grant ${grantText(grantAdvice(leastToGrant(sets, granted), kind))} for fewer requests`,
        );
        continue;
      }
      gaps.push({ call: operation.call, grant: grantAdvice(leastToGrant(sets, granted), kind) });
    }
    if (gaps.length === 0)
      return {
        id,
        status: 'ok',
        message: `${feature.id} (${feature.title}): Graph permissions present${costlier.length > 0 ? `; ${costlier.join('; ')}` : ''}`,
      };
    const grant = gaps.flatMap((g) => g.grant).filter((g, i, all) => all.findIndex((o) => o.permission === g.permission) === i);
    return {
      id,
      status: 'missing',
      message: `${feature.id} (${feature.title}): ${gaps.map((g) => `grant ${grantText(g.grant)} for ${g.call}`).join('; ')}`,
      grant,
    };
  });
}
