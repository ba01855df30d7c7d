import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REFUSAL_EVENTS } from '../../../src/audit/plugin.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { auditEvents } from './support.js';
import { apiKeyCallers } from '../../support/api-key-callers.js';

/**
 * A mutation refused by the operation limits or the upstream budget is audited like one refused for
 * a permission (docs/mutations.md#audit). Before, only FORBIDDEN and the deployment refusals were:
 * a key holding Users.Terminate that tried to disable 99 accounts in one request got
 * OPERATION_TOO_COMPLEX and left no audit event at all, so a SIEM never saw the attempt.
 */

let emulator: TestEmulator;
let gw: TestGateway;
const RESPONDER_KEY = 'limit-audit-responder-key-0123456789';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  gw = await startTestGateway({
    emulator,
    env: {
      NODE_ENV: 'production',
      INTROSPECTION: '',
      ...apiKeyCallers({ responder: { key: RESPONDER_KEY, permissions: ['Users.Read', 'Users.Terminate'] } }),
    },
  });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

const refusedOf = (operationName: string) => auditEvents(gw).filter((e) => e.operationName === operationName && e.outcome === 'refused');
const massDisable = (name: string, count: number) =>
  `mutation ${name} { ${Array.from({ length: count }, (_, i) => `a${i}: disableAccount(input: {user: "user${i}@contoso.example"}) { accountEnabled }`).join(' ')} }`;

describe('audit of a mutation refused by the limits', () => {
  it('over the upstream budget: refused events naming the targets, nothing sent to Graph', async () => {
    await emulator.resetStats();
    const result = await gw.graphql(massDisable('OverBudget', 99), undefined, { 'x-api-key': RESPONDER_KEY });
    expect(result.status).toBe(400);
    expect(result.errors![0]!.extensions!.code).toBe('OPERATION_TOO_COMPLEX');
    const events = refusedOf('OverBudget');
    expect(events).toHaveLength(MAX_REFUSAL_EVENTS);
    expect(events[0]).toMatchObject({
      operation: 'disableAccount',
      reason: 'OPERATION_TOO_COMPLEX',
      targetUser: 'user0@contoso.example',
      caller: { kind: 'api-key', keyId: 'responder' },
    });
    expect(events.at(-1)!.unlistedRefusals).toBe(99 - MAX_REFUSAL_EVENTS);
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('over the alias limit: audited the same way', async () => {
    const result = await gw.graphql(massDisable('TooManyAliases', 120), undefined, { 'x-api-key': RESPONDER_KEY });
    expect(result.status).toBe(400);
    expect(result.errors![0]!.extensions!.code).toBe('OPERATION_TOO_COMPLEX');
    expect(result.errors![0]!.message).toMatch(/alias/i);
    const events = refusedOf('TooManyAliases');
    expect(events).toHaveLength(MAX_REFUSAL_EVENTS);
    expect(events.every((e) => e.reason === 'OPERATION_TOO_COMPLEX')).toBe(true);
  });
});
