import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REFUSAL_EVENTS } from '../../../src/audit/plugin.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { auditEvents } from './support.js';
import { apiKeyCallers } from '../../support/api-key-callers.js';

/**
 * A refused document is audited per mutation field it selects, within a bound
 * (docs/mutations.md#audit). Refusals come before the operation limits, so the alias limit does
 * not bound a refused document: a reader's key sent 330 aliased `enableAccount` in one request and
 * the audit log got 330 events.
 */

let emulator: TestEmulator;
let gw: TestGateway;
const READER_KEY = 'refusal-audit-reader-key-0123456789';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  gw = await startTestGateway({
    emulator,
    env: { NODE_ENV: 'production', INTROSPECTION: '', ...apiKeyCallers({ reader: { key: READER_KEY, permissions: ['Users.Read'] } }) },
  });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

const refusedOf = (operationName: string) => auditEvents(gw).filter((e) => e.operationName === operationName && e.outcome === 'refused');

describe('audit of a refused document', () => {
  it('hundreds of aliased mutation fields make at most MAX_REFUSAL_EVENTS events, the last one counting the rest', async () => {
    const fields = Array.from({ length: 300 }, (_, i) => `a${i}: enableAccount(input: {user: "user${i}@contoso.example"}) { accountEnabled }`);
    const result = await gw.graphql(`mutation Flood { ${fields.join(' ')} }`, undefined, { 'x-api-key': READER_KEY });
    expect(result.status).toBe(403);
    expect(result.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const events = refusedOf('Flood');
    expect(events).toHaveLength(MAX_REFUSAL_EVENTS);
    expect(events.map((e) => e.targetUser)).toEqual(Array.from({ length: MAX_REFUSAL_EVENTS }, (_, i) => `user${i}@contoso.example`));
    expect(events.slice(0, -1).every((e) => e.unlistedRefusals === undefined)).toBe(true);
    expect(events.at(-1)).toMatchObject({ operation: 'enableAccount', reason: 'FORBIDDEN', unlistedRefusals: 300 - MAX_REFUSAL_EVENTS });
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('the same field with the same target, aliased, is one event; different fields and targets are each their own', async () => {
    const result = await gw.graphql(
      `mutation Repeat($u: ID!) {
        a: disableAccount(input: {user: $u}) { accountEnabled }
        b: disableAccount(input: {user: $u}) { accountEnabled }
        c: disableAccount(input: {user: "other@contoso.example"}) { accountEnabled }
        d: revokeSignInSessions(input: {user: $u}) { revoked }
      }`,
      { u: 'adele.vance@contoso.example' },
      { 'x-api-key': READER_KEY },
    );
    expect(result.status).toBe(403);
    const events = refusedOf('Repeat');
    expect(events.map((e) => [e.operation, e.targetUser])).toEqual([
      ['disableAccount', 'adele.vance@contoso.example'],
      ['disableAccount', 'other@contoso.example'],
      ['revokeSignInSessions', 'adele.vance@contoso.example'],
    ]);
    expect(events.every((e) => e.unlistedRefusals === undefined)).toBe(true);
  });

  it('a target that cannot be a user is not written into the event: no line separators or bidi overrides of the caller reach the audit stream', async () => {
    // U+2028 is a line break to many log viewers, U+202E shows what follows reversed; both pass JSON
    // encoding unescaped, and anyone with a credential (no permission needed) chose the text.
    const forged = 'x\u2028{"audit":true,"operation":"disableAccount","outcome":"succeeded"} \u202Emoc.elpmaxe.osotnoc@nimda';
    const result = await gw.graphql(
      'mutation Forge($u: ID!) { a: disableAccount(input: {user: $u}) { accountEnabled } b: enableAccount(input: {user: "x\\u2028y"}) { accountEnabled } c: revokeSignInSessions(input: {user: " Adele.Vance@contoso.example "}) { revoked } }',
      { u: forged },
      { 'x-api-key': READER_KEY },
    );
    expect(result.status).toBe(403);
    const events = refusedOf('Forge');
    expect(events.map((e) => [e.operation, e.targetUser])).toEqual([
      ['disableAccount', undefined],
      ['enableAccount', undefined],
      ['revokeSignInSessions', 'Adele.Vance@contoso.example'],
    ]);
    // Every line of the request (the audit events and the operation's own line), as written.
    const lines = gw.logLines.filter((line) => line.includes('"operationName":"Forge"'));
    expect(lines.filter((line) => line.includes('"audit":true'))).toHaveLength(3);
    for (const line of lines) expect(line).not.toMatch(/[\u2028\u2029\u202e]/);
  });
});
