import { getDirectiveValues, type GraphQLField, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { DeploymentMode } from '../../config-types.js';
import { ErrorCode, GatewayError } from '../../errors.js';
import { fieldRefusalRule } from '../field-refusal-rule.js';

/**
 * Enforces `@deployment(requires: ...)` for a whole document at validation time: when any field an
 * operation selects (directly, through fragments or inline fragments, under any alias) needs a
 * mode the gateway is not running in, the document is refused before a resolver runs, so not a
 * single request goes upstream, even for the allowed fields next to it.
 *
 * The rule depends only on the process-wide mode, so Apollo may cache a validated document safely.
 */

export const DEPLOYMENT_DIRECTIVE = 'deployment';

/** SDL enum value (`DeploymentMode`) for each configured mode. */
const SDL_MODE: Record<DeploymentMode, string> = { 'self-deployed': 'SELF_DEPLOYED', hosted: 'HOSTED' };
const CONFIG_MODE: Record<string, DeploymentMode> = { SELF_DEPLOYED: 'self-deployed', HOSTED: 'hosted' };

/** How to reach each mode, told to the caller who needs it. */
const HOW_TO_SWITCH: Record<DeploymentMode, string> = {
  'self-deployed':
    'Run the gateway with DEPLOYMENT_MODE=self-deployed and your own Entra app registration: AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH), with the Graph permissions listed for this field; see the README section on the self-deployed set-up.',
  hosted:
    'Run the gateway with DEPLOYMENT_MODE=hosted and the broker settings BROKER_URL, BROKER_ID, BROKER_TOKEN and BROKER_KEY; see the README section on the hosted set-up.',
};

/** The mode a field definition requires, or undefined when it works in every mode. */
export function requiredDeploymentMode(field: GraphQLField<unknown, unknown>, schema: GraphQLSchema): DeploymentMode | undefined {
  const directive = schema.getDirective(DEPLOYMENT_DIRECTIVE);
  if (directive && field.astNode) {
    const values = getDirectiveValues(directive, field.astNode);
    const required = values?.requires;
    if (typeof required === 'string') return CONFIG_MODE[required];
  }
  // Schemas built in code can carry the requirement as a field extension instead.
  const fromExtensions = (field.extensions as { deployment?: { requires?: unknown } } | undefined)?.deployment?.requires;
  if (typeof fromExtensions === 'string') return CONFIG_MODE[fromExtensions] ?? (fromExtensions as DeploymentMode);
  return undefined;
}

/**
 * A GatewayError, so that it keeps its public code through Apollo's ValidationError wrapper
 * (which puts it in `originalError`) and the gateway's error formatter.
 */
export function unsupportedDeploymentModeError(coordinate: string, required: DeploymentMode, current: DeploymentMode): GatewayError {
  return new GatewayError(
    ErrorCode.UNSUPPORTED_DEPLOYMENT_MODE,
    `${coordinate} needs the gateway to run in ${required} mode, but it runs in ${current} mode, so the operation was not executed. ${HOW_TO_SWITCH[required]}`,
    { requiredMode: required, currentMode: current, field: coordinate },
  );
}

/** graphql-js validation rule; add it to Apollo Server's `validationRules`. */
export function deploymentModeRule(mode: DeploymentMode): ValidationRule {
  if (!(mode in SDL_MODE)) throw new TypeError(`deploymentModeRule expects 'self-deployed' or 'hosted'; received ${JSON.stringify(mode)}.`);
  return fieldRefusalRule((field, schema, coordinate) => {
    const required = requiredDeploymentMode(field, schema);
    return required === undefined || required === mode ? undefined : unsupportedDeploymentModeError(coordinate, required, mode);
  });
}
