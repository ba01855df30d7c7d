import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeOfSteps } from '../../../src/audit/event.js';
import type { UserRecord } from '../../../src/emulator/model.js';
import { startDelegatedApp, type DelegatedApp } from '../../support/delegated-app.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { ordinaryUserPicker } from './support.js';

/**
 * Every mutation's audit event records each Graph step it took, the same way
 * (docs/mutations.md#audit): a step per Graph call the mutation made on purpose (the read-back of
 * forceResetPassword and the manager lookup included), each with `succeeded` and `outcome` that
 * agree, Graph's `status` and `requestId`, every request-id of the steps in `requestIds`, and the
 * event's `outcome` the outcome of its steps. Table-driven over every Mutation field of the schema,
 * each run once for real against the emulator (delegated Graph identity, so
 * changePasswordOnPremises runs too) and once against a user that does not exist.
 */

let emulator: TestEmulator;
let app: DelegatedApp;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
  app = await startDelegatedApp(emulator, { env: { INTROSPECTION: 'true' } });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);
const PASSWORD = 'Kx9!vQ2#mZ7$wR4p';
const MISSING = '00000000-0000-4000-8000-00000000beef';

interface Case {
  /** The field's selection with its input, for a user picked for it. */
  run: (user: UserRecord) => string | Promise<string>;
  /** Picks the user (default: any ordinary user). */
  pick?: (u: UserRecord) => boolean;
  /** The steps a successful run records, in order. */
  steps: string[];
  /** The steps a run on a user that does not exist records (default: the first step only). */
  missingSteps?: string[];
}

const CASES: Record<string, Case> = {
  terminateSession: {
    run: (u) => `terminateSession(input: {user: "${u.id}"}) { succeeded }`,
    steps: ['REVOKE_SESSIONS', 'DISABLE_ACCOUNT'],
    missingSteps: ['REVOKE_SESSIONS', 'DISABLE_ACCOUNT'],
  },
  revokeSignInSessions: { run: (u) => `revokeSignInSessions(input: {user: "${u.id}"}) { revoked }`, steps: ['REVOKE_SESSIONS'] },
  changePassword: { run: (u) => `changePassword(input: {user: "${u.id}", password: "${PASSWORD}"}) { requestId }`, steps: ['SET_PASSWORD'] },
  forceResetPassword: {
    run: (u) => `forceResetPassword(input: {user: "${u.id}"}) { forceChangePasswordNextSignInConfirmed }`,
    steps: ['FORCE_PASSWORD_CHANGE', 'CONFIRM_FORCE_PASSWORD_CHANGE'],
  },
  changePasswordOnPremises: {
    run: (u) => `changePasswordOnPremises(input: {user: "${u.userPrincipalName}", password: "${PASSWORD}"}) { status }`,
    steps: ['RESET_PASSWORD', 'OPERATION'],
    missingSteps: ['RESET_PASSWORD'],
  },
  disableAccount: { run: (u) => `disableAccount(input: {user: "${u.id}"}) { accountEnabled }`, steps: ['DISABLE_ACCOUNT'] },
  enableAccount: { run: (u) => `enableAccount(input: {user: "${u.id}"}) { accountEnabled }`, steps: ['ENABLE_ACCOUNT'] },
  createUser: {
    run: () => {
      const nick = `steps${Date.now()}${Math.floor(Math.random() * 1000)}`;
      return `createUser(input: {userPrincipalName: "${nick}@contoso.example", displayName: "Steps", mailNickname: "${nick}", password: "${PASSWORD}"}) { requestId }`;
    },
    steps: ['CREATE_USER'],
  },
  updateUser: { run: (u) => `updateUser(input: {user: "${u.id}", jobTitle: "Audited"}) { updatedFields }`, steps: ['UPDATE_USER'] },
  deleteUser: { run: (u) => `deleteUser(input: {user: "${u.id}"}) { deleted }`, steps: ['DELETE_USER'] },
  assignManager: {
    run: (u) => `assignManager(input: {user: "${u.id}", manager: "${ordinaryUser().userPrincipalName}"}) { requestId }`,
    steps: ['RESOLVE_MANAGER', 'ASSIGN_MANAGER'],
    missingSteps: ['RESOLVE_MANAGER', 'ASSIGN_MANAGER'],
  },
  removeManager: {
    run: (u) => `removeManager(input: {user: "${u.id}"}) { __typename }`,
    pick: (u) => u.managerId !== undefined && u.managerId !== null,
    steps: ['REMOVE_MANAGER'],
  },
  deleteAuthenticationMethod: {
    run: (u) =>
      `deleteAuthenticationMethod(input: {user: "${u.id}", type: EMAIL, methodId: "${u.authMethods.find((m) => m.type === 'email')!.id}"}) { methodId }`,
    pick: (u) => u.authMethods.some((m) => m.type === 'email'),
    steps: ['DELETE_EMAIL_METHOD'],
  },
  createTemporaryAccessPass: { run: (u) => `createTemporaryAccessPass(input: {user: "${u.id}"}) { requestId }`, steps: ['CREATE_TEMPORARY_ACCESS_PASS'] },
  deleteTemporaryAccessPass: {
    run: async (u) => {
      const created = await app.graphql(`mutation { createTemporaryAccessPass(input: {user: "${u.id}"}) { temporaryAccessPass { id } } }`);
      expect(created.errors).toBeUndefined();
      return `deleteTemporaryAccessPass(input: {user: "${u.id}", methodId: "${created.data.createTemporaryAccessPass.temporaryAccessPass.id}"}) { methodId }`;
    },
    steps: ['DELETE_TEMPORARY_ACCESS_PASS_METHOD'],
  },
};

/** The one event a named operation wrote, after checking the invariants every event's steps keep. */
function eventOf(operationName: string): Record<string, any> {
  const events = app.auditEvents().filter((e) => e.operationName === operationName);
  expect(events).toHaveLength(1);
  const event = events[0]!;
  expect(new Set(event.requestIds).size).toBe(event.requestIds.length);
  for (const step of event.steps as Array<Record<string, any>>) {
    expect(['SUCCEEDED', 'FAILED', 'UNKNOWN']).toContain(step.outcome);
    expect(step.succeeded).toBe(step.outcome === 'SUCCEEDED');
    // OPERATION sums up the polls of changePasswordOnPremises (their request-ids are in requestIds); every other step is one Graph call.
    if (step.step !== 'OPERATION') {
      expect(step.status, `${step.step} status`).toEqual(expect.any(Number));
      expect(step.requestId, `${step.step} requestId`).toEqual(expect.any(String));
      expect(event.requestIds).toContain(step.requestId);
    }
    if (step.outcome === 'FAILED' && step.status !== 200) expect(step.errorCode, `${step.step} errorCode`).toEqual(expect.any(String));
  }
  // A lookup changes nothing: the event's outcome is that of the other steps (a failed assignment after a found manager is failed, not partial).
  expect(event.outcome).toBe(outcomeOfSteps(event.steps.filter((s: { step: string }) => s.step !== 'RESOLVE_MANAGER')));
  return event;
}

describe("every mutation's event records each Graph step", () => {
  it('the table covers every mutation of the schema', async () => {
    const result = await app.graphql('{ __type(name: "Mutation") { fields { name } } }');
    const names = (result.data.__type.fields as Array<{ name: string }>).map((f) => f.name).sort();
    expect(Object.keys(CASES).sort()).toEqual(names);
  });

  it.each(Object.entries(CASES))('%s: a successful run, each step SUCCEEDED with its status and request-id', async (field, testCase) => {
    const user = ordinaryUser(testCase.pick);
    const operationName = `Steps_${field}`;
    const result = await app.graphql(`mutation ${operationName} { ${await testCase.run(user)} }`);
    expect(result.errors).toBeUndefined();
    const event = eventOf(operationName);
    expect(event).toMatchObject({ operation: field, outcome: 'succeeded' });
    expect(event.steps.map((s: { step: string }) => s.step)).toEqual(testCase.steps);
    expect(event.steps.every((s: { outcome: string }) => s.outcome === 'SUCCEEDED')).toBe(true);
  });

  it.each(Object.entries(CASES).filter(([field]) => field !== 'createUser'))(
    '%s on a user that does not exist: the step that failed says so, the event is failed',
    async (field, testCase) => {
      const missing = { ...ordinaryUser(testCase.pick), id: MISSING, userPrincipalName: 'nobody.here@contoso.example' } as UserRecord;
      const operationName = `Missing_${field}`;
      const query =
        field === 'deleteTemporaryAccessPass'
          ? `deleteTemporaryAccessPass(input: {user: "${MISSING}", methodId: "${MISSING}"}) { methodId }`
          : await testCase.run(missing);
      const result = await app.graphql(`mutation ${operationName} { ${query} }`);
      expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const event = eventOf(operationName);
      expect(event).toMatchObject({ operation: field, outcome: 'failed', reason: 'NOT_FOUND' });
      expect(event.steps.map((s: { step: string }) => s.step)).toEqual(testCase.missingSteps ?? testCase.steps.slice(0, 1));
      const last = event.steps.at(-1);
      expect(last).toMatchObject({ succeeded: false, outcome: 'FAILED', status: 404, errorCode: 'NOT_FOUND' });
    },
  );
});
