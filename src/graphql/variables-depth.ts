import { badInput } from '../errors.js';
import { QUERY_LIMITS } from './query-limits.js';

/**
 * How deeply a JSON value nests (objects and arrays; a scalar is 0), measured without recursion and
 * giving up as soon as `limit` is passed, so no input can exhaust the stack or take long here.
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    const inner = depth + 1;
    if (inner > limit) return true;
    const children = Array.isArray(current) ? current : Object.values(current as Record<string, unknown>);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push({ value: child, depth: inner });
  }
  return false;
}

/**
 * Refuses a GraphQL request whose `variables` or `extensions` nest deeper than
 * QUERY_LIMITS.variablesDepth, before graphql-js coerces them (coercion, the upstream estimate and
 * logging all walk values level by level). `body` is the parsed POST body; for GET, the raw
 * `variables` / `extensions` query parameters (JSON text) are read the way Apollo reads them.
 */
export function assertVariablesDepth(input: { body?: unknown; search?: URLSearchParams }): void {
  const members: Array<{ name: 'variables' | 'extensions'; value: unknown }> = [];
  if (input.body !== null && typeof input.body === 'object' && !Array.isArray(input.body)) {
    const body = input.body as Record<string, unknown>;
    members.push({ name: 'variables', value: body.variables }, { name: 'extensions', value: body.extensions });
  }
  for (const name of ['variables', 'extensions'] as const) {
    const text = input.search?.get(name);
    if (!text) continue;
    try {
      members.push({ name, value: JSON.parse(text) });
    } catch {
      // Apollo answers malformed JSON itself.
    }
  }
  // The `variables` object itself is the first level.
  const tooDeep = members.find(({ value }) => jsonDepthExceeds(value, QUERY_LIMITS.variablesDepth));
  if (tooDeep) {
    throw badInput(`\`${tooDeep.name}\` nest deeper than ${QUERY_LIMITS.variablesDepth} levels of objects and lists; no input of this API needs that.`, {
      limit: 'variablesDepth',
      max: QUERY_LIMITS.variablesDepth,
      reason: 'VARIABLES_TOO_DEEP',
    });
  }
}
