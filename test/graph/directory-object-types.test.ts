/**
 * Which directory objects a user relationship shows (docs/graph-facts.md#manager-and-bulk-lookup):
 * users and agent users (a type derived from user, its list page spelling the cast in two letter cases)
 * for `manager`/`directReports`, devices for `ownedDevices` (which may also hold endpoints and app role
 * assignments); an item without `@odata.type` is taken as the relationship's own type.
 */
import { describe, expect, it } from 'vitest';
import { isDeviceObject, isUserObject } from '../../src/graph/api.js';

const typed = (type?: string) => ({ id: 'x', ...(type === undefined ? {} : { '@odata.type': type }) });

describe('isUserObject', () => {
  it.each([
    [undefined, true],
    ['#microsoft.graph.user', true],
    ['#microsoft.graph.agentUser', true],
    ['#microsoft.graph.AgentUser', true],
    ['#microsoft.graph.orgContact', false],
    ['#microsoft.graph.group', false],
  ])('%s → %s', (type, expected) => {
    expect(isUserObject(typed(type))).toBe(expected);
  });
});

describe('isDeviceObject', () => {
  it.each([
    [undefined, true],
    ['#microsoft.graph.device', true],
    ['#microsoft.graph.endpoint', false],
    ['#microsoft.graph.appRoleAssignment', false],
  ])('%s → %s', (type, expected) => {
    expect(isDeviceObject(typed(type))).toBe(expected);
  });
});
