import type { Config } from '../config-types.js';
import type { Permission } from '../identity/types.js';
import { FEATURES, GRAPH_OPERATIONS, NOT_SUPPORTED, type Feature, type GrantKind } from './feature-permissions.js';

/** Whether the configuration lets callers reach a feature, and why not. */
export type FeatureAvailability =
  { feature: Feature; state: 'enabled' } | { feature: Feature; state: 'not-available'; reason: string } | { feature: Feature; state: 'unused'; reason: string };

/** The kind of Graph token the configured flow yields: app-only or a signed-in user's. */
export function grantKindOf(config: Config): GrantKind {
  if (config.deploymentMode === 'hosted') return 'application';
  return config.selfDeployed?.flow === 'client-credentials' ? 'application' : 'delegated';
}

/**
 * Every feature, with what the configuration makes of it: hosted mode refuses the self-deployed
 * features before anything is sent; a Graph call that does not exist for this token kind (the
 * on-premises password reset is delegated-only) cannot run; with API keys, a feature no key may
 * call is unused. Everything else is enabled and must work.
 */
export function featureAvailability(config: Config): FeatureAvailability[] {
  const kind = grantKindOf(config);
  const keyPermissions: ReadonlySet<Permission> | undefined =
    config.callerAuth.mode === 'api-key' ? new Set(config.callerAuth.keys.flatMap((k) => [...k.permissions])) : undefined;
  return FEATURES.map((feature): FeatureAvailability => {
    if (feature.modes === 'self-deployed' && config.deploymentMode === 'hosted') {
      return {
        feature,
        state: 'not-available',
        reason: 'hosted mode refuses it (UNSUPPORTED_DEPLOYMENT_MODE); it needs DEPLOYMENT_MODE=self-deployed with your own app registration',
      };
    }
    const unsupported = feature.operations.find(
      (id) => (kind === 'application' ? GRAPH_OPERATIONS[id].application : GRAPH_OPERATIONS[id].delegated) === NOT_SUPPORTED,
    );
    if (unsupported) {
      return {
        feature,
        state: 'not-available',
        reason: `Graph does not support ${GRAPH_OPERATIONS[unsupported].call} with ${kind === 'application' ? 'app-only' : 'delegated'} tokens; it needs GRAPH_AUTH_FLOW=${kind === 'application' ? 'authorization-code or on-behalf-of (a signed-in administrator)' : 'client-credentials'}`,
      };
    }
    if (keyPermissions && !keyPermissions.has(feature.callerPermission)) {
      return { feature, state: 'unused', reason: `no key in API_KEYS holds ${feature.callerPermission}, so no caller can use it` };
    }
    return { feature, state: 'enabled' };
  });
}
