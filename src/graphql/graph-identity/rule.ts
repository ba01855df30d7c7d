import { getDirectiveValues, type GraphQLField, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { DeploymentMode } from '../../config-types.js';
import { ErrorCode, GatewayError } from '../../errors.js';
import type { GraphIdentity } from '../../identity/types.js';
import { requiredDeploymentMode } from '../deployment/rule.js';
import { fieldRefusalRule } from '../field-refusal-rule.js';

/**
 * Enforces `@graphIdentity(requires: ...)` for a whole document at validation time: when a field
 * the operation selects (directly, through fragments, under any alias) is one Microsoft Graph only
 * serves to another kind of identity than the gateway's, the document is refused before a resolver
 * runs, so nothing goes upstream. The case it exists for: `resetPassword` lists "Application: Not
 * supported" (docs/graph-facts.md#writes-and-permissions), so under client credentials or the
 * hosted broker it can only fail, after a lookup or two, with a 403 that hides why.
 *
 * The rule depends only on the process-wide Graph identity, so Apollo may cache a validated
 * document safely. A field the deployment rule already refuses (`@deployment` naming another
 * mode) is left to it: one refusal per field, the deployment mode first.
 */

export const GRAPH_IDENTITY_DIRECTIVE = 'graphIdentity';

export type GraphIdentityKind = 'delegated' | 'app-only';

const CONFIG_KIND: Record<string, GraphIdentityKind> = { DELEGATED: 'delegated', APP_ONLY: 'app-only' };

/** What the gateway's identity is, as the rule and its error messages need it. */
export interface GraphIdentityFacts {
  kind: GraphIdentityKind;
  /** `GRAPH_AUTH_FLOW` (or `hosted-broker`), named in the error. */
  flow: GraphIdentity['kind'];
}

export function graphIdentityFactsOf(identity: Pick<GraphIdentity, 'kind' | 'delegated'>): GraphIdentityFacts {
  return { kind: identity.delegated ? 'delegated' : 'app-only', flow: identity.kind };
}

/** How to get each kind of identity, told to the caller who needs it. */
const HOW_TO_GET: Record<GraphIdentityKind, string> = {
  delegated:
    'Run the gateway with a delegated Graph identity: GRAPH_AUTH_FLOW=authorization-code (an administrator signs in once at /auth/login; `npm run auth:login-url` prints the URL) or GRAPH_AUTH_FLOW=on-behalf-of with CALLER_AUTH=entra (Graph then acts as each calling administrator), with the delegated Graph permissions listed for this field granted to the app registration; see docs/identity.md.',
  'app-only':
    'Run the gateway with GRAPH_AUTH_FLOW=client-credentials and the application permissions listed for this field granted to the app registration; see docs/identity.md.',
};

/** The identity kind a field definition requires, or undefined when any will do. */
export function requiredGraphIdentity(field: GraphQLField<unknown, unknown>, schema: GraphQLSchema): GraphIdentityKind | undefined {
  const directive = schema.getDirective(GRAPH_IDENTITY_DIRECTIVE);
  if (directive && field.astNode) {
    const required = getDirectiveValues(directive, field.astNode)?.requires;
    if (typeof required === 'string') return CONFIG_KIND[required];
  }
  return undefined;
}

/** A GatewayError, so it keeps its public code through Apollo's ValidationError wrapper. */
export function unsupportedGraphIdentityError(coordinate: string, required: GraphIdentityKind, current: GraphIdentityFacts): GatewayError {
  const currentText = current.kind === 'delegated' ? `a delegated identity (${current.flow})` : `an app-only identity (${current.flow})`;
  return new GatewayError(
    ErrorCode.UNSUPPORTED_GRAPH_IDENTITY,
    `${coordinate} needs a ${required} Microsoft Graph identity, but the gateway acts as ${currentText}, so the operation was not executed: Microsoft Graph does not offer this operation to ${current.kind} callers. ${HOW_TO_GET[required]}`,
    { requiredIdentity: required, currentIdentity: current.kind, currentFlow: current.flow, field: coordinate },
  );
}

/** graphql-js validation rule; add it to Apollo Server's `validationRules` next to the deployment rule. */
export function graphIdentityRule(identity: GraphIdentityFacts, mode: DeploymentMode): ValidationRule {
  if (identity.kind !== 'delegated' && identity.kind !== 'app-only') {
    throw new TypeError(`graphIdentityRule expects kind 'delegated' or 'app-only'; received ${JSON.stringify(identity.kind)}.`);
  }
  return fieldRefusalRule((field, schema, coordinate) => {
    const required = requiredGraphIdentity(field, schema);
    if (required === undefined || required === identity.kind) return undefined;
    // A field the deployment mode already refuses is that rule's to report.
    const mustBeIn = requiredDeploymentMode(field, schema);
    if (mustBeIn !== undefined && mustBeIn !== mode) return undefined;
    return unsupportedGraphIdentityError(coordinate, required, identity);
  });
}
