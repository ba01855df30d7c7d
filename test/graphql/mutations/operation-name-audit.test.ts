import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOperationName } from '../../../src/audit/event.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { auditEvents, ordinaryUserPicker } from './support.js';

/**
 * One rule for `operationName` in every audit event (docs/security.md#operation-names-in-audit-events):
 * the name the document gives, kept only when it is a GraphQL name of at most 64 characters that
 * does not look like a credential, whichever path wrote the event (a resolver, the audit plugin
 * inside Apollo, the HTTP layer before Apollo, the token limit). The request's JSON `operationName`
 * (any text: line breaks, bidi overrides) is never written. Real gateway over the emulator, real sockets.
 */

let emulator: TestEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 40 });
  gw = await startTestGateway({ emulator, env: { DEPLOYMENT_MODE: 'self-deployed', MAX_TOKENS: '300' } });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);
let sequence = 0;

/** Posts a raw body and returns the HTTP status and the audit events of that request (its correlation id). */
async function send(body: Record<string, unknown>): Promise<{ status: number; events: Array<Record<string, any>> }> {
  const correlationId = `operation-name-${(sequence += 1)}-${Date.now()}`;
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return { status: res.status, events: auditEvents(gw).filter((e) => e.correlationId === correlationId) };
}

const disable = (user: string) => `disableAccount(input: {user: "${user}"}) { accountEnabled }`;
/** Shaped like a GitHub token, and a GraphQL name: a client could put one there by mistake. */
const TOKEN_SHAPED = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
const HOSTILE_JSON_NAME = 'Contain\n{"audit":true,"outcome":"succeeded"}\u202Egnp.exe\u2028\u0007';

describe('the same rule on every path', () => {
  it('a succeeded, a failed, an Apollo-refused, a pre-Apollo-refused and a token-limit-refused mutation keep the name', async () => {
    const succeeded = await send({ query: `mutation Contain_Incident42 { ${disable(ordinaryUser().id)} }` });
    expect(succeeded.events).toEqual([expect.objectContaining({ outcome: 'succeeded', operationName: 'Contain_Incident42' })]);

    const failed = await send({ query: `mutation Gone { ${disable('00000000-0000-0000-0000-00000000dead')} }` });
    expect(failed.events).toEqual([expect.objectContaining({ outcome: 'failed', operationName: 'Gone' })]);

    const invalid = await send({ query: 'mutation Invalid { disableAccount(input: {user: true}) { accountEnabled } }' });
    expect(invalid.status).toBe(400);
    expect(invalid.events).toEqual([expect.objectContaining({ outcome: 'refused', reason: 'BAD_USER_INPUT', operationName: 'Invalid' })]);

    const broken = await send({ query: `mutation Broken { ${disable('megan.bowen@contoso.example')} ` });
    expect(broken.status).toBe(400);
    expect(broken.events).toEqual([expect.objectContaining({ outcome: 'refused', reasonDetail: 'GRAPHQL_PARSE_FAILED', operationName: 'Broken' })]);

    const fields = Array.from({ length: 40 }, (_, i) => `a${i}: ${disable('megan.bowen@contoso.example')}`).join(' ');
    const tooLong = await send({ query: `mutation TooMany { ${fields} }` });
    expect(tooLong.status).toBe(400);
    expect(tooLong.events).toEqual([expect.objectContaining({ outcome: 'refused', reason: 'OPERATION_TOO_COMPLEX', operationName: 'TooMany' })]);
  });
});

describe('hostile names', () => {
  it("the request's JSON operationName (line breaks, bidi override, a bell) is never written: the document's name is", async () => {
    const refused = await send({ query: `mutation Contain { ${disable('megan.bowen@contoso.example')} }`, operationName: HOSTILE_JSON_NAME });
    expect(refused.status).toBe(400);
    expect(refused.events).toEqual([expect.objectContaining({ outcome: 'refused', reasonDetail: 'OPERATION_RESOLUTION_FAILURE', operationName: 'Contain' })]);
    const auditLines = gw.logLines.filter((line) => line.includes('"audit":true')).join('');
    for (const text of ['\u202E', '\u2028', '\u0007', 'gnp.exe', '\\u202e', '\\u0007']) expect(auditLines).not.toContain(text);
  });

  it('a token-shaped name is not kept, on a write that ran and on one refused before Apollo; the event stays', async () => {
    const ran = await send({ query: `mutation ${TOKEN_SHAPED} { ${disable(ordinaryUser().id)} }` });
    expect(ran.events).toEqual([expect.objectContaining({ operation: 'disableAccount', outcome: 'succeeded', operationName: null })]);
    const refused = await send({ query: `mutation ${TOKEN_SHAPED} { ${disable('megan.bowen@contoso.example')} ` });
    expect(refused.events).toEqual([expect.objectContaining({ operation: 'disableAccount', outcome: 'refused', operationName: null })]);
    const auditLines = gw.logLines.filter((line) => line.includes('"audit":true')).join('');
    expect(auditLines).not.toContain('16C7e42F292c6912E7710c838347Ae178B4a');
  });

  it('a name longer than 64 characters is left out, not cut', async () => {
    const long = `Contain${'x'.repeat(58)}`;
    expect(long).toHaveLength(65);
    const ran = await send({ query: `mutation ${long} { ${disable(ordinaryUser().id)} }` });
    expect(ran.events).toEqual([expect.objectContaining({ outcome: 'succeeded', operationName: null })]);
    const kept = await send({ query: `mutation ${long.slice(0, 64)} { ${disable(ordinaryUser().id)} }` });
    expect(kept.events).toEqual([expect.objectContaining({ outcome: 'succeeded', operationName: long.slice(0, 64) })]);
  });
});

describe('auditOperationName', () => {
  it.each([
    ['Contain', 'Contain'],
    ['Contain_Incident_2024_06', 'Contain_Incident_2024_06'],
    ['TerminateSessionAndDisableAccount', 'TerminateSessionAndDisableAccount'],
    ['Line\nBreak', null],
    ['Bidi\u202Eevil', null],
    ['Sep\u2028arator', null],
    ['', null],
    [' Contain', null],
    ['1Contain', null],
    [TOKEN_SHAPED, null],
    ['sk_live_4eC39HqLyjWDarjtT1zdp7dc', null],
    ['AKIAIOSFODNN7EXAMPLE', null],
    ['d41d8cd98f00b204e9800998ecf8427e', null],
    [42, null],
    [null, null],
  ])('%j -> %j', (name, expected) => {
    expect(auditOperationName(name)).toBe(expected);
  });
});
