import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES, GRAPH_OPERATIONS, NOT_SUPPORTED, type GraphOperation, type OperationId } from '../../src/doctor/feature-permissions.js';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { doctorInProcess, leastApplicationPermissions, registerTestApp, spawnDoctor, tenantEnv, type DoctorRun } from './support.js';

/**
 * `npm run doctor` as an operator runs it before going live, against the emulator as the tenant:
 * a separate process, the gateway's own configuration, real sockets.
 */
let emulator: TestEmulator;

/** No run may print a token or a secret. */
function expectNoSecrets(result: DoctorRun, secrets: string[]): void {
  const output = `${result.stdout}\n${result.stderr}`;
  expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  for (const secret of secrets) expect(output).not.toContain(secret);
}

function line(result: DoctorRun, prefix: RegExp): string | undefined {
  return result.lines.find((l) => prefix.test(l));
}

/** An enabled member without directory roles: what a test user for the write probes looks like. */
function plainMember(): UserRecord {
  return [...emulator.tenant.users.values()].find(
    (u) => u.accountEnabled && u.userType === 'Member' && u._directoryRoles.length === 0 && !u.userPrincipalName.includes("'"),
  )!;
}

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
}, 60_000);

afterAll(async () => {
  await emulator.close();
});

describe('npm run doctor against a fully permitted app', () => {
  it('exits 0 with every enabled feature ok, the role found and the reads probed with their request-ids', async () => {
    const app = registerTestApp(emulator, leastApplicationPermissions());
    const result = await spawnDoctor(tenantEnv(emulator, app), [], 'npm');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.lines.filter((l) => /^(missing|failed)\s/.test(l))).toEqual([]);
    for (const feature of FEATURES.filter((f) => f.id !== 'changePasswordOnPremises')) {
      expect(line(result, new RegExp(`^ok\\s+${feature.id} \\(`))).toBeDefined();
    }
    expect(line(result, /^not available\s+changePasswordOnPremises \(/)).toMatch(/does not support .*resetPassword with app-only tokens/);
    expect(line(result, /^ok\s+terminateSession: the service principal/)).toMatch(/holds Privileged Authentication Administrator: it may act on every user/);
    expect(line(result, /^ok\s+probe GET \/users\?\$top=1: 200 \(request-id [0-9a-f-]{36}\)$/)).toBeDefined();
    expect(line(result, /^ok\s+probe POST \/\$batch \(2 GETs\): 200 \(request-id [0-9a-f-]{36}\), items 1: 200, 2: 200$/)).toBeDefined();
    expect(line(result, /^ok\s+probe POST \/directoryObjects\/getByIds \(1 id\): 200 \(request-id [0-9a-f-]{36}\)$/)).toBeDefined();
    expect(result.stdout).toContain('Result: everything this configuration enables should work.');
    expectNoSecrets(result, app.secrets);
  }, 120_000);

  it('--json gives the same findings for automation, as a separate process', async () => {
    const app = registerTestApp(emulator, leastApplicationPermissions());
    const result = await spawnDoctor(tenantEnv(emulator, app), ['--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; exitCode: number; checks: Array<{ id: string; status: string; requestId?: string }> };
    expect(report).toMatchObject({ ok: true, exitCode: 0 });
    expect(report.checks.find((c) => c.id === 'feature:terminateSession')?.status).toBe('ok');
    expect(report.checks.find((c) => c.id === 'feature:changePasswordOnPremises')?.status).toBe('not-available');
    expect(report.checks.find((c) => c.id === 'probe:batch')?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expectNoSecrets(result, app.secrets);
  }, 120_000);
});

/** Every Graph call app-only can make, with the features that make it. */
const APP_ONLY_OPERATIONS = (Object.keys(GRAPH_OPERATIONS) as OperationId[]).filter((id) => GRAPH_OPERATIONS[id].application !== NOT_SUPPORTED);

describe('an app missing the permission of one Graph call', () => {
  it.each(APP_ONLY_OPERATIONS)(
    '%s: the doctor names what to grant and exits 1',
    async (operationId) => {
      const operation = GRAPH_OPERATIONS[operationId];
      const sets = operation.application as readonly (readonly string[])[];
      // An operation the gateway also reaches by a costlier route (getByIds → $batch) is missing only without both.
      const fallback: GraphOperation['fallback'] = 'fallback' in operation ? operation.fallback : undefined;
      const covering = new Set([...sets.flat(), ...(fallback?.sets.flat() ?? [])]);
      const app = registerTestApp(
        emulator,
        leastApplicationPermissions().filter((p) => !covering.has(p)),
      );
      const result = await doctorInProcess(tenantEnv(emulator, app));
      expect(result.code).toBe(1);
      const grant = `grant ${sets[0]!.map((p) => `${p} (application permission, then grant admin consent)`).join(' and ')} for ${operation.call}`;
      for (const feature of FEATURES.filter((f) => (f.operations as readonly string[]).includes(operationId))) {
        const found = line(result, new RegExp(`^missing\\s+${feature.id} \\(`));
        expect(found, `${feature.id} in\n${result.stdout}`).toBeDefined();
        expect(found).toContain(grant);
      }
      expectNoSecrets(result, app.secrets);
    },
    120_000,
  );
});

describe('Entra roles of the app', () => {
  it('no directory role: each sensitive feature says which role to assign, exit 1', async () => {
    const app = registerTestApp(emulator, leastApplicationPermissions(), []);
    const result = await doctorInProcess(tenantEnv(emulator, app));
    expect(result.code).toBe(1);
    for (const id of ['terminateSession', 'disableAccount', 'enableAccount', 'changePassword', 'deleteUser']) {
      expect(
        line(
          result,
          new RegExp(
            `^missing\\s+${id}: assign the Entra role User Administrator \\(users without admin roles\\) or Privileged Authentication Administrator or Global Administrator \\(every user, administrators included\\) to the app's service principal`,
          ),
        ),
      ).toBeDefined();
    }
    expect(line(result, /^ok\s+terminateSession \(/)).toBeDefined();
  }, 120_000);

  it('User Administrator only: ok, with a warning that administrators are out of reach', async () => {
    const app = registerTestApp(emulator, leastApplicationPermissions(), ['User Administrator']);
    const result = await doctorInProcess(tenantEnv(emulator, app));
    expect(result.code).toBe(0);
    expect(line(result, /^ok\s+changePassword: the service principal/)).toMatch(
      /holds User Administrator: it may act on users without admin roles only; assign Privileged Authentication Administrator to act on administrators too/,
    );
  }, 120_000);

  it('without a permission to read role assignments: "could not check" with what to grant, not a failure of its own', async () => {
    const app = registerTestApp(
      emulator,
      leastApplicationPermissions().filter((p) => p !== 'Directory.Read.All' && p !== 'RoleManagement.Read.Directory'),
    );
    const result = await doctorInProcess(tenantEnv(emulator, app));
    expect(line(result, /^could not check\s+terminateSession: could not read the Entra roles/)).toContain(
      'grant RoleManagement.Read.Directory (application permission, then grant admin consent) so the doctor can check',
    );
    // Without Directory.Read.All lookups by id go through $batch: said, not a failure; the unreadable roles add none either.
    // Group memberships do need it: Graph would list the groups with their type and id only
    // (docs/graph-facts.md#manager-and-bulk-lookup, "Limited information").
    expect(result.lines.filter((l) => /^(missing|failed)\s/.test(l))).toEqual([
      'missing          groupMemberships (group memberships): grant Directory.Read.All (application permission, then grant admin consent) for GET /users/{id}/memberOf',
      // The administrator-target check's eligibility lookup needs the same permission the doctor lacks here.
      expect.stringMatching(
        /^missing\s+administrator targets \(eligible and administrative-unit roles\): .* need RoleManagement\.Read\.Directory \(application permission/,
      ),
    ]);
    expect(line(result, /^ok\s+bulkLookupById \(/)).toMatch(
      /POST \/directoryObjects\/getByIds is refused without Directory\.Read\.All: the gateway uses \$batch of GET \/users\/\{id\}.*grant Directory\.Read\.All \(application permission, then grant admin consent\) for fewer requests/,
    );
    expect(line(result, /^ok\s+probe POST \/directoryObjects\/getByIds/)).toMatch(/403 Authorization_RequestDenied .*lookups by id will go through \$batch/);
  }, 120_000);
});

describe('a failing token', () => {
  it('a wrong client secret: the AADSTS code with advice, the secret never printed, exit 1', async () => {
    const app = registerTestApp(emulator, leastApplicationPermissions());
    const wrong = 'wrongQ~secret-that-must-not-be-printed-0123456789';
    const result = await spawnDoctor(tenantEnv(emulator, app, { AZURE_CLIENT_SECRET: wrong }));
    expect(result.code).toBe(1);
    expect(line(result, /^failed\s+token: /)).toMatch(/AADSTS7000215.*the client secret is wrong: set AZURE_CLIENT_SECRET to the secret's Value/);
    expect(line(result, /^could not check\s+terminateSession \(/)).toContain('no Graph token');
    expectNoSecrets(result, [wrong, ...app.secrets]);
  }, 120_000);

  it('the sandbox (no tenant credentials) is a usage error: exit 2', async () => {
    const result = await spawnDoctor({ PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', DATA_DIR: emulator.dataDir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the configuration is the sandbox/);
  }, 60_000);
});

describe('hosted mode', () => {
  const hostedEnv = (): Record<string, string> => {
    const known = emulator.tenant.wellKnown;
    const registration = emulator.tenant.brokerRegistrations.get(known.brokerRegistrationId)!;
    return {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      SANDBOX: 'false',
      DEPLOYMENT_MODE: 'hosted',
      BROKER_URL: emulator.brokerUrl,
      BROKER_ID: registration.id,
      BROKER_TOKEN: registration.token,
      BROKER_KEY: registration.key,
      AZURE_AUTHORITY_HOST: emulator.authorityHost,
      GRAPH_ENDPOINT: emulator.graphEndpoint,
      NODE_EXTRA_CA_CERTS: emulator.caFile,
      CACHE_URL: 'memory',
      DATA_DIR: emulator.dataDir,
    };
  };

  it('self-deployed-only features are "not available", not failures; the write probes too, and nobody is touched', async () => {
    const hosted = emulator.tenant.apps.get(emulator.tenant.wellKnown.hostedAppId)!;
    const saved = { roles: hosted.graphAppRoles, directoryRoles: hosted.directoryRoles };
    hosted.graphAppRoles = leastApplicationPermissions();
    hosted.directoryRoles = ['Privileged Authentication Administrator'];
    const target = plainMember();
    const before = { enabled: target.accountEnabled, validFrom: target.signInSessionsValidFromDateTime };
    try {
      const result = await spawnDoctor(hostedEnv(), ['--test-user', target.userPrincipalName, '--allow-writes']);
      expect(result.code).toBe(0);
      for (const id of ['terminateSession', 'revokeSignInSessions', 'disableAccount', 'changePassword', 'changePasswordOnPremises']) {
        expect(line(result, new RegExp(`^not available\\s+${id} \\(`))).toMatch(/hosted mode refuses it \(UNSUPPORTED_DEPLOYMENT_MODE\)/);
      }
      expect(line(result, /^ok\s+enableAccount \(/)).toBeDefined();
      expect(line(result, /^not available\s+write probes: hosted mode refuses it/)).toBeDefined();
      expect(target.accountEnabled).toBe(before.enabled);
      expect(target.signInSessionsValidFromDateTime).toBe(before.validFrom);
      const registration = emulator.tenant.brokerRegistrations.get(emulator.tenant.wellKnown.brokerRegistrationId)!;
      // The Token is the tenant id (docs/security.md#the-broker-token-is-a-secret): the token line said "in tenant <it>".
      expect(line(result, /^ok\s+token: hosted-broker obtained/)).toContain("in the broker registration's tenant (its id is BROKER_TOKEN: not shown)");
      expectNoSecrets(result, [registration.key, registration.token, registration.token.toUpperCase()]);
    } finally {
      hosted.graphAppRoles = saved.roles;
      hosted.directoryRoles = saved.directoryRoles;
    }
  }, 120_000);

  it('the hosted app as seeded lacks the authentication-method read and the role its writes need: exit 1', async () => {
    const result = await spawnDoctor(hostedEnv());
    expect(result.code).toBe(1);
    expect(line(result, /^missing\s+authMethodsRead \(/)).toContain(
      'grant UserAuthenticationMethod.Read.All (application permission, then grant admin consent)',
    );
    expect(line(result, /^missing\s+enableAccount: assign the Entra role/)).toBeDefined();
  }, 120_000);
});

describe('write probes on a named test user', () => {
  it('revokes its sessions, disables and re-enables it; it ends enabled and nobody else is touched', async () => {
    const app = registerTestApp(emulator, leastApplicationPermissions());
    const target = plainMember();
    const others = [...emulator.tenant.users.values()]
      .filter((u) => u.id !== target.id)
      .map((u) => [u.id, u.accountEnabled, u.signInSessionsValidFromDateTime]);
    const validFrom = target.signInSessionsValidFromDateTime;
    await emulator.resetStats();
    const result = await spawnDoctor(tenantEnv(emulator, app), ['--test-user', target.userPrincipalName, '--allow-writes']);
    expect(result.code).toBe(0);
    expect(line(result, /^ok\s+write POST \/users\/\{id\}\/revokeSignInSessions \(with a GET of the user in one \$batch\) on /)).toMatch(
      /: 200 \(request-id [0-9a-f-]{36}\)$/,
    );
    expect(line(result, /^ok\s+write PATCH \/users\/\{id\} \{accountEnabled:false\} on /)).toMatch(/: 204 /);
    expect(line(result, /^ok\s+write PATCH \/users\/\{id\} \{accountEnabled:true\} on /)).toMatch(/: 204 /);
    expect(target.accountEnabled).toBe(true);
    expect(Date.parse(target.signInSessionsValidFromDateTime)).toBeGreaterThan(Date.parse(validFrom));
    const stats = await emulator.stats();
    expect(stats.batch.itemsByRoute['POST /v1.0/users/{id}/revokeSignInSessions']).toBe(1);
    expect(stats.byRoute['PATCH /v1.0/users/{id}']).toBe(2);
    expect(
      [...emulator.tenant.users.values()].filter((u) => u.id !== target.id).map((u) => [u.id, u.accountEnabled, u.signInSessionsValidFromDateTime]),
    ).toEqual(others);
  }, 120_000);

  it('--test-user without --allow-writes writes nothing', async () => {
    const app = registerTestApp(emulator, leastApplicationPermissions());
    const target = plainMember();
    const validFrom = target.signInSessionsValidFromDateTime;
    const result = await spawnDoctor(tenantEnv(emulator, app), ['--test-user', target.id]);
    expect(result.code).toBe(0);
    expect(line(result, /^skipped\s+write probes: skipped, --test-user .* needs --allow-writes/)).toBeDefined();
    expect(target.signInSessionsValidFromDateTime).toBe(validFrom);
  }, 120_000);

  it('--allow-writes without --test-user is a usage error', async () => {
    const app = registerTestApp(emulator, leastApplicationPermissions());
    const result = await spawnDoctor(tenantEnv(emulator, app), ['--allow-writes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--allow-writes needs --test-user/);
  }, 60_000);
});

describe('on-behalf-of without a caller token', () => {
  it('proves the app credential and says what it could not check, without failing', async () => {
    const app = registerTestApp(emulator, leastApplicationPermissions());
    const result = await spawnDoctor(
      tenantEnv(emulator, app, { GRAPH_AUTH_FLOW: 'on-behalf-of', CALLER_AUTH: 'entra', API_AUDIENCE: 'api://msgraph-user-gateway' }),
    );
    expect(result.code).toBe(0);
    expect(line(result, /^could not check\s+token: on-behalf-of acts for each calling user/)).toContain('--caller-token-file');
    expect(line(result, /^ok\s+credential: Entra accepts the app's credential/)).toBeDefined();
    expect(line(result, /^could not check\s+terminateSession \(/)).toContain('no caller token');
  }, 120_000);
});
