/**
 * docs/graph-facts.md#writes-and-permissions: what Graph lets each caller write.
 * - resetPassword (learn.microsoft.com/graph/api/authenticationmethod-resetpassword; permissions include
 *   api-reference/v1.0/includes/permissions/authenticationmethod-resetpassword-permissions.md): delegated
 *   UserAuthenticationMethod.ReadWrite.All only, application not supported, never the caller's own
 *   account, the admin holds Authentication, Privileged Authentication or Global Administrator, or (the
 *   current page) User, Helpdesk or Password Administrator for non-admin users and a limited set of roles.
 * - Manager references (learn.microsoft.com/graph/api/user-post-manager): `@odata.id` is
 *   `https://graph.microsoft.com/v1.0/users/{id}`, the object id; a UPN is refused
 *   (microsoftgraph/entra-powershell#1504).
 * - Delete (learn.microsoft.com/graph/api/user-delete): User.ReadWrite.All ("higher: not available");
 *   Directory.ReadWrite.All's description says it does not allow deleting users.
 * - Sensitive actions (learn.microsoft.com/graph/api/user-update note; resources/users "Who can perform
 *   sensitive actions"): app-only, changing accountEnabled of a user with an admin role needs the app's
 *   service principal to hold a role that outranks the target; users without a role need none.
 * - revokeSignInSessions answers 200 `{"value": true}` (learn.microsoft.com/graph/api/user-revokesigninsessions);
 *   its known issue "Revoke sign-in sessions returns wrong HTTP code" documents 204 No Content as the intent.
 * - Value types: an Edm.Boolean is JSON true/false (OData JSON Format 4.01 §7.1); a string, "true"
 *   included, is the directory's 400 Request_BadRequest "Cannot convert the literal ..."
 *   (msgraph-sdk-powershell#3202; the stricter reading, docs/graph-facts.md#writes-and-permissions).
 * - Users synchronized from on-premises (onPremisesSyncEnabled): only accountEnabled is written in the
 *   cloud (learn.microsoft.com/entra/identity/users/users-revoke-access); resources/user marks their phones
 *   read-only, a passwordProfile write is 400 "Unable to update the specified properties for on-premises
 *   mastered Directory Sync objects ..." (microsoft-graph-docs#7301), the rest the stricter reading.
 * - Values a write may set (resources/user maximum lengths, one business phone, usageLocation; the
 *   username and password policies of learn.microsoft.com/entra/identity/authentication/concept-sspr-policy),
 *   docs/graph-facts.md#user-properties and #writes-and-permissions.
 */
import { graphSettingsFromEnv } from '../../../src/emulator/graph-settings.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_METHOD_ID } from '../../../src/emulator/seed.js';
import type { UserRecord } from '../../../src/emulator/model.js';
import { registerApp, USER_ADMIN_APP_ID } from '../graph/graph-client.js';
import { type Conformance, graphErrorCode, mintToken, startConformance } from './support.js';

let c: Conformance;
/** The emulator's injected clock: tests move it to finish password reset operations. */
const clock = { offsetMs: 0 };

beforeAll(async () => {
  // The suite's app: every Graph application permission, service principal a Privileged Authentication Administrator.
  c = await startConformance(['Privileged Authentication Administrator'], { userCount: 200, now: () => Date.now() + clock.offsetMs });
});
afterAll(async () => c.close());

const taken = new Set<string>();
function plainUser(extra: (u: UserRecord) => boolean = () => true): UserRecord {
  const user = c.users.find(
    (u) =>
      !taken.has(u.id) &&
      u.accountEnabled &&
      u.userType === 'Member' &&
      u._directoryRoles.length === 0 &&
      !u.onPremisesSyncEnabled &&
      u.id !== c.emulator.tenant.wellKnown.adminUserId &&
      extra(u),
  );
  if (!user) throw new Error('no plain user left');
  taken.add(user.id);
  return user;
}
const withRole = (role: string) => c.users.filter((u) => u._directoryRoles.includes(role) && u.id !== c.emulator.tenant.wellKnown.adminUserId);
const resetPath = (user: string) => `/v1.0/users/${user}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`;
/** A delegated token for `actor` carrying `scp` (signed by the emulator's key, as Entra would issue it). */
const delegated = (actor: UserRecord, scp: string) => mintToken(c.emulator, { scp, oid: actor.id });
/** The seeded Global Administrator, signed in with UserAuthenticationMethod.ReadWrite.All. */
const asAdmin = () => mintToken(c.emulator, { scp: 'UserAuthenticationMethod.ReadWrite.All', oid: c.emulator.tenant.wellKnown.adminUserId });

describe('resetPassword (authenticationmethod-resetpassword)', () => {
  it('regression: refused for an app-only token ("Application: Not supported"; field reports Azure/Azure-Sentinel#9035, msgraph-sdk-powershell#2058) and for the signed-in user\'s own account, with 403 Authorization_RequestDenied', async () => {
    const user = plainUser();
    const before = user._password;
    // The app of this file holds UserAuthenticationMethod.ReadWrite.All as an application permission and Privileged Authentication Administrator.
    const appOnly = await c.graph('POST', `/v1.0/users/${user.id}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`, {
      body: { newPassword: 'Rq5!mnb-Tz8w-app' },
    });
    expect(appOnly.status).toBe(403);
    expect(appOnly.body.error).toMatchObject({ code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
    expect(appOnly.body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const adminBefore = admin._password;
    const token = await asAdmin();
    for (const path of [`/v1.0/users/${admin.id}`, `/v1.0/users/${admin.userPrincipalName}`, '/v1.0/me']) {
      const own = await c.graph('POST', `${path}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`, {
        body: { newPassword: 'Rq5!mnb-Tz8w-own' },
        token,
      });
      expect(own.status, path).toBe(403);
      expect(own.body.error.code).toBe('Authorization_RequestDenied');
    }
    clock.offsetMs = 2000;
    try {
      expect(user._password).toBe(before);
      expect(admin._password).toBe(adminBefore);
    } finally {
      clock.offsetMs = 0;
    }
  });

  it('needs delegated UserAuthenticationMethod.ReadWrite.All: UserAuthMethod-Password.ReadWrite.All or Directory.AccessAsUser.All alone is 403', async () => {
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const target = plainUser();
    for (const scp of ['UserAuthMethod-Password.ReadWrite.All', 'Directory.AccessAsUser.All', 'User.ReadWrite.All']) {
      const res = await c.graph('POST', resetPath(target.id), { body: { newPassword: 'Rq5!mnb-Tz8w-scp' }, token: await delegated(admin, scp) });
      expect(res.status, scp).toBe(403);
      expect(graphErrorCode(res)).toBe('Authorization_RequestDenied');
    }
    const ok = await c.graph('POST', resetPath(target.id), {
      body: { newPassword: 'Rq5!mnb-Tz8w-ok1' },
      token: await delegated(admin, 'UserAuthenticationMethod.ReadWrite.All'),
    });
    expect(ok.status).toBe(202);
  });

  it("answers 202 with a Location shaped as the page's examples: the operation under the user, with the service's own query parameters, which a poll of the whole link accepts", async () => {
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const target = plainUser();
    const token = await delegated(admin, 'UserAuthenticationMethod.ReadWrite.All');
    const res = await c.graph('POST', resetPath(target.id), { body: { newPassword: 'Rq5!mnb-Tz8w-loc' }, token });
    expect(res.status).toBe(202);
    // Example 1 (a password the caller gave) answers `{}`; example 2 (none given) a passwordResetResponse.
    expect(res.body).toEqual({});
    const generated = await c.graph('POST', resetPath(plainUser().id), { token });
    expect(generated.status).toBe(202);
    expect(generated.body['@odata.context']).toMatch(/\/v1\.0\/\$metadata#microsoft\.graph\.passwordResetResponse$/);
    expect(typeof generated.body.newPassword).toBe('string');
    const location = new URL(res.headers.get('location')!);
    expect(location.pathname).toMatch(new RegExp(`^/v1\\.0/users/${target.id}/authentication/operations/[0-9a-f-]{36}$`));
    expect([...location.searchParams.keys()]).toEqual(['aadgdc', 'aadgsu']);
    const poll = await c.graph('GET', location.href, { token });
    expect(poll.status).toBe(200);
    expect(['notStarted', 'running', 'succeeded']).toContain(poll.body.status);
  });

  // The page's prose says the answer "may also include" a Location, and a vendor's connector documentation
  // shows a 204 without one: the `resetPasswordAnswer: 'completed'` switch (docs/emulator.md) answers that way.
  it("under resetPasswordAnswer 'completed': the password is set at once, 204 without a Location (200 with a generated password), and 'accepted' answers 202 again", async () => {
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const token = await delegated(admin, 'UserAuthenticationMethod.ReadWrite.All');
    const set = await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ resetPasswordAnswer: 'completed' }) });
    expect(set.status).toBe(200);
    try {
      const target = plainUser();
      target.passwordProfile.forceChangePasswordNextSignIn = false;
      const given = await c.graph('POST', resetPath(target.id), { body: { newPassword: 'Rq5!mnb-Tz8w-now' }, token });
      expect(given.status).toBe(204);
      expect(given.headers.get('location')).toBeNull();
      expect(target._password).toBe('Rq5!mnb-Tz8w-now');
      expect(target.passwordProfile.forceChangePasswordNextSignIn).toBe(true);
      const other = plainUser();
      const generated = await c.graph('POST', resetPath(other.id), { token });
      expect(generated.status).toBe(200);
      expect(generated.headers.get('location')).toBeNull();
      expect(other._password).toBe(generated.body.newPassword);
      // The refusals do not change with the answer's shape.
      const own = await c.graph('POST', resetPath(admin.id), { body: { newPassword: 'Rq5!mnb-Tz8w-own' }, token });
      expect(own.status).toBe(403);
      expect(graphErrorCode(own)).toBe('Authorization_RequestDenied');
      const bad = await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ resetPasswordAnswer: 'sometimes' }) });
      expect(bad.status).toBe(400);
    } finally {
      await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ resetPasswordAnswer: 'accepted' }) });
    }
    expect((await c.graph('POST', resetPath(plainUser().id), { body: { newPassword: 'Rq5!mnb-Tz8w-later' }, token })).status).toBe(202);
  });

  it('regression: once the operation succeeds the password is set and the user must change it at next sign-in ("The user is prompted to change their password on their next sign in")', async () => {
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const target = plainUser();
    target.passwordProfile.forceChangePasswordNextSignIn = false;
    const token = await delegated(admin, 'UserAuthenticationMethod.ReadWrite.All');
    const res = await c.graph('POST', resetPath(target.id), { body: { newPassword: 'Rq5!mnb-Tz8w-next' }, token });
    expect(res.status).toBe(202);
    clock.offsetMs = 2000;
    try {
      const poll = await c.graph('GET', res.headers.get('location')!, { token });
      expect(poll.body.status).toBe('succeeded');
      expect(target._password).toBe('Rq5!mnb-Tz8w-next');
      const read = await c.graph('GET', `/v1.0/users/${target.id}?$select=id,passwordProfile`);
      expect(read.body.passwordProfile).toMatchObject({ forceChangePasswordNextSignIn: true });
    } finally {
      clock.offsetMs = 0;
    }
  });

  // The current page: Authentication Administrator and Privileged Authentication Administrator are the least
  // privileged roles, and "Admins with User Administrator, Helpdesk Administrator, or Password Administrator
  // roles can also reset passwords for non-admin users and a limited set of admin roles" (its older text named
  // Global, Privileged Authentication and Authentication Administrator only).
  it('the signed-in admin holds Authentication, Privileged Authentication or Global Administrator, or User, Helpdesk or Password Administrator for targets it outranks; no role is 403', async () => {
    const scp = 'UserAuthenticationMethod.ReadWrite.All';
    const passwordAdmin = plainUser();
    passwordAdmin._directoryRoles = ['Password Administrator'];
    const actors = [
      ...[
        'Authentication Administrator',
        'Privileged Authentication Administrator',
        'Global Administrator',
        'User Administrator',
        'Helpdesk Administrator',
      ].map((role) => [role, withRole(role)[0]!] as const),
      ['Password Administrator', passwordAdmin] as const,
    ];
    for (const [role, actor] of actors) {
      const res = await c.graph('POST', resetPath(plainUser().id), { body: { newPassword: 'Rq5!mnb-Tz8w-yes' }, token: await delegated(actor, scp) });
      expect(res.status, role).toBe(202);
    }
    // "A limited set of admin roles": none of the three reaches a Global Administrator.
    const globalAdmin = withRole('Global Administrator')[0]!;
    for (const [role, actor] of actors.filter(([r]) => ['User Administrator', 'Helpdesk Administrator', 'Password Administrator'].includes(r))) {
      const res = await c.graph('POST', resetPath(globalAdmin.id), { body: { newPassword: 'Rq5!mnb-Tz8w-no1' }, token: await delegated(actor, scp) });
      expect(res.status, role).toBe(403);
      expect(graphErrorCode(res)).toBe('Authorization_RequestDenied');
    }
    const noRole = await c.graph('POST', resetPath(plainUser().id), { body: { newPassword: 'Rq5!mnb-Tz8w-no2' }, token: await delegated(plainUser(), scp) });
    expect(noRole.status).toBe(403);
  });
});

describe('manager references (user-post-manager)', () => {
  it('regression: only `<graph base>/v1.0/users/{object id}` is a reference; a UPN, a beta or directoryObjects path, another host or any other shape is 400, a missing object 404 (user-post-manager; entra-powershell#1504)', async () => {
    const users = [...c.emulator.tenant.users.values()];
    const worker = users.find((u) => u.managerId && u._directoryRoles.length === 0)!;
    const boss = users.find((u) => u.id !== worker.id && u.id !== worker.managerId && !u.managerId)!;
    const before = worker.managerId;
    const refs = [
      `${c.emulator.origin}/v1.0/users/${boss.userPrincipalName}`,
      `${c.emulator.origin}/v1.0/users('${boss.userPrincipalName}')`,
      `${c.emulator.origin}/v1.0/users/${encodeURIComponent(boss.userPrincipalName)}`,
      `/v1.0/users/${boss.id}`,
      `users/${boss.id}`,
      boss.id,
      `https://graph.microsoft.com/v1.0/users/${boss.id}`,
      `${c.emulator.origin}/v1.0/groups/${boss.id}`,
      `${c.emulator.origin}/v1.0/users/${boss.id}?$select=id`,
      `${c.emulator.origin}/v1.0/users/${boss.id}/manager`,
      // Neither user-post-manager page (v1.0 or beta) shows these forms.
      `${c.emulator.origin}/v1.0/directoryObjects/${boss.id}`,
      `${c.emulator.origin}/beta/users/${boss.id}`,
      `${c.emulator.origin}/beta/directoryObjects/${boss.id}`,
    ];
    for (const ref of refs) {
      const res = await c.graph('PUT', `/v1.0/users/${worker.id}/manager/$ref`, { body: { '@odata.id': ref } });
      expect(res.status, ref).toBe(400);
      expect(res.body.error.code, ref).toBe('Request_BadRequest');
      expect(res.body.error.message, ref).toContain('Invalid object identifier');
    }
    expect(worker.managerId).toBe(before);
    const missing = await c.graph('PUT', `/v1.0/users/${worker.id}/manager/$ref`, {
      body: { '@odata.id': `${c.emulator.origin}/v1.0/users/00000000-0000-4000-8000-00000000dead` },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('Request_ResourceNotFound');
    for (const ref of [`${c.emulator.origin}/v1.0/users/${boss.id}`, `${c.emulator.origin}/v1.0/users/${boss.id.toUpperCase()}`]) {
      const ok = await c.graph('PUT', `/v1.0/users/${worker.id}/manager/$ref`, { body: { '@odata.id': ref } });
      expect(ok.status, ref).toBe(204);
      expect(worker.managerId).toBe(boss.id);
    }
    worker.managerId = before;
  });

  // user-delete-manager documents 204 only; what a user without a manager gets is not documented: the
  // stricter reading is the 404 a missing reference gets (docs/graph-facts.md#manager-and-bulk-lookup).
  it('DELETE manager/$ref: 204 when there is a manager, then 404 Request_ResourceNotFound once there is none', async () => {
    const worker = [...c.emulator.tenant.users.values()].find((u) => u.managerId && u._directoryRoles.length === 0)!;
    const before = worker.managerId;
    try {
      expect((await c.graph('DELETE', `/v1.0/users/${worker.id}/manager/$ref`)).status).toBe(204);
      expect(worker.managerId).toBeNull();
      const again = await c.graph('DELETE', `/v1.0/users/${worker.id}/manager/$ref`);
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('Request_ResourceNotFound');
    } finally {
      worker.managerId = before;
    }
  });
});

describe("value types (OData JSON Format 4.01 §7.1; the directory's type-mismatch 400, msgraph-sdk-powershell#3202)", () => {
  it('an Edm.Boolean takes JSON true/false only: the strings "true"/"false" are 400 Request_BadRequest, nothing changes', async () => {
    const user = plainUser();
    const forceBefore = user.passwordProfile.forceChangePasswordNextSignIn;
    const bodies: Record<string, unknown>[] = [
      { accountEnabled: 'false' },
      { accountEnabled: 'true' },
      { accountEnabled: 'False' },
      { accountEnabled: 0 },
      { passwordProfile: { forceChangePasswordNextSignIn: 'true' } },
    ];
    for (const body of bodies) {
      const res = await c.graph('PATCH', `/v1.0/users/${user.id}`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(graphErrorCode(res)).toBe('Request_BadRequest');
      expect(res.body.error.message).toMatch(/^Cannot convert the literal '.*' to the expected type 'Edm\.Boolean'\.$/);
    }
    expect(user.accountEnabled).toBe(true);
    expect(user.passwordProfile.forceChangePasswordNextSignIn).toBe(forceBefore);
    const created = await c.graph('POST', '/v1.0/users', {
      body: {
        accountEnabled: 'true',
        displayName: 'Quoted Boolean',
        mailNickname: 'quotedboolean',
        userPrincipalName: `quotedboolean@${c.emulator.tenant.domain}`,
        passwordProfile: { password: 'xWwvJ]6NMw+bWH-d' },
      },
    });
    expect(created.status).toBe(400);
    expect(graphErrorCode(created)).toBe('Request_BadRequest');
    expect(created.body.error.message).toContain("'Edm.Boolean'");
    const ok = await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { accountEnabled: false } });
    expect(ok.status).toBe(204);
    expect(user.accountEnabled).toBe(false);
    user.accountEnabled = true;
  });
});

describe('values a write may set (resources/user; concept-sspr-policy "Username policies" and "Microsoft Entra password policies")', () => {
  const domain = () => c.emulator.tenant.domain;
  const newUser = (upn: string, extra: Record<string, unknown> = {}) => ({
    accountEnabled: true,
    displayName: 'Limits Probe',
    mailNickname: 'limitsprobe',
    userPrincipalName: upn,
    passwordProfile: { password: 'xWwvJ]6NMw+bWH-d' },
    ...extra,
  });
  const refusedAs = (res: { status: number; body: any; text: string }, property: string) => {
    expect(res.status, res.text).toBe(400);
    expect(graphErrorCode(res as never)).toBe('Request_BadRequest');
    expect(res.body.error.message).toBe(`Invalid value specified for property '${property}' of resource 'User'.`);
  };

  it('a password holds only the allowed characters: a non-ASCII ("Unicode") character is the complexity 400, a blank space is allowed', async () => {
    const user = plainUser();
    const before = user._password;
    for (const password of ['Pässwort-2024!', 'Passw0rd–dash', 'Tab\tSeparated1!', 'Emoji😀Pass1!']) {
      const res = await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { passwordProfile: { password } } });
      expect(res.status, password).toBe(400);
      expect(graphErrorCode(res)).toBe('Request_BadRequest');
      expect(res.body.error.message).toBe('The specified password does not comply with password complexity requirements. Please provide a different password.');
    }
    expect(user._password).toBe(before);
    const spaced = 'Blue Kettle 42 [x]';
    expect((await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { passwordProfile: { password: spaced } } })).status).toBe(204);
    expect(user._password).toBe(spaced);
  });

  it('a userPrincipalName has at most 64 characters before the @, 48 after, 113 in all, and no "." right before the @', async () => {
    const local64 = `a${'b'.repeat(62)}c`;
    refusedAs(await c.graph('POST', '/v1.0/users', { body: newUser(`${local64}x@${domain()}`) }), 'userPrincipalName');
    refusedAs(await c.graph('POST', '/v1.0/users', { body: newUser(`ends.with.dot.@${domain()}`) }), 'userPrincipalName');
    const user = plainUser();
    refusedAs(await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { userPrincipalName: `trailing.@${domain()}` } }), 'userPrincipalName');
    const created = await c.graph('POST', '/v1.0/users', { body: newUser(`${local64}@${domain()}`) });
    expect(created.status, created.text).toBe(201);
    expect(created.body.userPrincipalName).toBe(`${local64}@${domain()}`);
  });

  // resources/group: mailNickname holds "only characters in the ASCII character set 0 - 127 except
  // the following: @ () \\ [] \" ; : <> , SPACE"; users refused for a comma (docs-contrib#6580) and a
  // space (docs-contrib#4937, "spaces are not allowed but - is").
  it('a mailNickname is ASCII without @ ( ) \\ [ ] " ; : < > , or spaces, on create and update; dots, dashes and underscores are fine', async () => {
    for (const mailNickname of [
      'naveen.mills,.jr.',
      'Jane Doe',
      'jane@doe',
      'jane(doe)',
      'jane[1]',
      'jane;doe',
      'jane:doe',
      'jane<doe>',
      'jane"doe',
      'jane\\doe',
      'jösé',
    ]) {
      refusedAs(await c.graph('POST', '/v1.0/users', { body: newUser(`nick${Date.now()}@${domain()}`, { mailNickname }) }), 'mailNickname');
    }
    const user = plainUser();
    const before = user.mailNickname;
    refusedAs(await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { mailNickname: 'two words' } }), 'mailNickname');
    expect(user.mailNickname).toBe(before);
    const created = await c.graph('POST', '/v1.0/users', { body: newUser(`nick.ok@${domain()}`, { mailNickname: "jane.o'doe-smith_2" }) });
    expect(created.status, created.text).toBe(201);
  });

  it('string properties keep their documented maximum lengths; one business phone; onPremisesImmutableId without $ or _', async () => {
    const user = plainUser();
    const limits: Record<string, number> = {
      displayName: 256,
      givenName: 64,
      surname: 64,
      mailNickname: 64,
      jobTitle: 128,
      department: 64,
      officeLocation: 128,
      mobilePhone: 64,
      employeeId: 16,
      companyName: 64,
      city: 128,
      country: 128,
    };
    for (const [property, max] of Object.entries(limits)) {
      refusedAs(await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { [property]: 'x'.repeat(max + 1) } }), property);
      const res = await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { [property]: 'x'.repeat(max) } });
      expect(res.status, property).toBe(204);
    }
    refusedAs(await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { businessPhones: ['+1 425 555 0100', '+1 425 555 0101'] } }), 'businessPhones');
    expect((await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { businessPhones: ['+1 425 555 0100'] } })).status).toBe(204);
    expect(user.businessPhones).toEqual(['+1 425 555 0100']);
    for (const id of ['abc_def', 'abc$def'])
      refusedAs(await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { onPremisesImmutableId: id } }), 'onPremisesImmutableId');
  });

  it('usageLocation is a two-letter ISO 3166 code (upper case, as the examples), not nullable, and is returned on $select', async () => {
    const user = plainUser();
    for (const value of ['gb', 'GBR', 'G', null, 7])
      refusedAs(await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { usageLocation: value } }), 'usageLocation');
    expect((await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { usageLocation: 'GB' } })).status).toBe(204);
    const read = await c.graph('GET', `/v1.0/users/${user.id}?$select=usageLocation`);
    expect(read.body.usageLocation).toBe('GB');
  });

  // An empty string is refused with the directory's invalid-value 400 (msgraph-sdk-dotnet#187 givenName,
  // msgraph-sdk-powershell#2087 officeLocation, #852 surname and mobilePhone; msgraph-sdk-dotnet#1453 "should be
  // between 1 and 64 characters"); `null` clears a string (microsoft-graph-docs#4299, #7762), `[]` the business phones
  // (msgraph-sdk-powershell#833).
  it('an empty string is 400 "Invalid value specified", an empty business phone too; null clears a string and [] the business phones', async () => {
    const user = plainUser();
    for (const property of ['jobTitle', 'givenName', 'officeLocation', 'mobilePhone', 'department'])
      refusedAs(await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { [property]: '' } }), property);
    refusedAs(await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { businessPhones: [''] } }), 'businessPhones');
    refusedAs(await c.graph('POST', '/v1.0/users', { body: newUser(`empty.probe@${domain()}`, { jobTitle: '' }) }), 'jobTitle');
    const cleared = await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { jobTitle: 'Analyst', businessPhones: ['+1 425 555 0100'] } });
    expect(cleared.status).toBe(204);
    expect((await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { jobTitle: null, businessPhones: [] } })).status).toBe(204);
    expect(c.emulator.tenant.users.get(user.id)).toMatchObject({ jobTitle: null, businessPhones: [] });
  });
});

describe('users synchronized from on-premises (resources/user; users-revoke-access; microsoft-graph-docs#7301)', () => {
  const synced = () => c.users.find((u) => u.onPremisesSyncEnabled && u.accountEnabled && u._directoryRoles.length === 0 && !taken.has(u.id))!;

  it('regression: a cloud write of their passwordProfile, phones or other properties is 400 "on-premises mastered"; nothing changes', async () => {
    const user = synced();
    taken.add(user.id);
    const before = { password: user._password, mobilePhone: user.mobilePhone, jobTitle: user.jobTitle, phones: [...user.businessPhones] };
    const bodies: Record<string, unknown>[] = [
      { passwordProfile: { password: 'Rq5!mnb-Tz8w-sync', forceChangePasswordNextSignIn: false } },
      { passwordProfile: { forceChangePasswordNextSignIn: true } },
      { mobilePhone: '+1 425 555 0199' },
      { businessPhones: ['+1 425 555 0198'] },
      { jobTitle: 'Changed In The Cloud' },
      { accountEnabled: false, jobTitle: 'Changed In The Cloud' },
    ];
    for (const body of bodies) {
      const res = await c.graph('PATCH', `/v1.0/users/${user.id}`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(graphErrorCode(res)).toBe('Request_BadRequest');
      expect(res.body.error.message).toBe(
        'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
      );
    }
    expect({ password: user._password, mobilePhone: user.mobilePhone, jobTitle: user.jobTitle, phones: user.businessPhones }).toEqual(before);
    expect(user.accountEnabled).toBe(true);
  });

  it('accountEnabled is changed in the cloud (the emergency steps for hybrid environments disable the user in Entra too)', async () => {
    const user = synced();
    taken.add(user.id);
    expect((await c.graph('PATCH', `/v1.0/users/${user.id}`, { body: { accountEnabled: false } })).status).toBe(204);
    expect(user.accountEnabled).toBe(false);
    user.accountEnabled = true;
  });
});

// permissions-reference: User.ReadWrite.All updates every declared property "except for their
// passwordProfile and employeeLeaveDateTime"; Directory.ReadWrite.All: "No rights to reset user passwords".
// user-update names User-PasswordProfile.ReadWrite.All for passwordProfile.
describe('passwordProfile permissions (user-update; permissions-reference)', () => {
  it('app-only User.ReadWrite.All or Directory.ReadWrite.All is 403 on passwordProfile; User-PasswordProfile.ReadWrite.All is 204', async () => {
    const target = plainUser();
    const body = { passwordProfile: { forceChangePasswordNextSignIn: true, password: 'Zq8!vLm#4pRt-perm' } };
    for (const roles of [['User.ReadWrite.All'], ['Directory.ReadWrite.All'], ['User.ReadWrite.All', 'Directory.ReadWrite.All']]) {
      const token = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles });
      const refused = await c.graph('PATCH', `/v1.0/users/${target.id}`, { body, token });
      expect(refused.status, roles.join()).toBe(403);
      expect(graphErrorCode(refused)).toBe('Authorization_RequestDenied');
    }
    const token = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles: ['User-PasswordProfile.ReadWrite.All'] });
    expect((await c.graph('PATCH', `/v1.0/users/${target.id}`, { body, token })).status).toBe(204);
  });

  it('delegated, an admin changes it with User-PasswordProfile.ReadWrite.All or Directory.AccessAsUser.All, not with User.ReadWrite.All', async () => {
    const target = plainUser();
    const admin = c.emulator.tenant.wellKnown.adminUserId;
    const body = { passwordProfile: { forceChangePasswordNextSignIn: true } };
    const as = (scp: string) => mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, scp, oid: admin });
    expect((await c.graph('PATCH', `/v1.0/users/${target.id}`, { body, token: await as('User.ReadWrite.All') })).status).toBe(403);
    expect((await c.graph('PATCH', `/v1.0/users/${target.id}`, { body, token: await as('User-PasswordProfile.ReadWrite.All') })).status).toBe(204);
    expect((await c.graph('PATCH', `/v1.0/users/${target.id}`, { body, token: await as('Directory.AccessAsUser.All') })).status).toBe(204);
  });
});

describe('delete (user-delete)', () => {
  it('Directory.ReadWrite.All alone does not delete users (its description); User.ReadWrite.All does', async () => {
    const target = plainUser();
    // The suite's app: its service principal is a Privileged Authentication Administrator, so only the permission differs.
    const directoryOnly = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles: ['Directory.ReadWrite.All'] });
    const refused = await c.graph('DELETE', `/v1.0/users/${target.id}`, { token: directoryOnly });
    expect(refused.status).toBe(403);
    expect(graphErrorCode(refused)).toBe('Authorization_RequestDenied');
    expect(c.emulator.tenant.users.has(target.id)).toBe(true);
    const userWrite = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles: ['User.ReadWrite.All'] });
    expect((await c.graph('DELETE', `/v1.0/users/${target.id}`, { token: userWrite })).status).toBe(204);
    expect(c.emulator.tenant.users.has(target.id)).toBe(false);
  });

  // user-delete: "To delete users with privileged administrator roles in delegated scenarios, the app must be
  // assigned the Directory.AccessAsUser.All delegated permission" (any directory role here: the stricter reading).
  it('delegated, an administrator is deleted only with Directory.AccessAsUser.All: User.ReadWrite.All is 403 for them (the signed-in Global Administrator outranks them), 204 for a user without a role', async () => {
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    // A user of this test's own made a Helpdesk Administrator, so the seeded role holders other tests use stay.
    const target = plainUser();
    target._directoryRoles = ['Helpdesk Administrator'];
    const userWrite = await delegated(admin, 'User.ReadWrite.All');
    const refused = await c.graph('DELETE', `/v1.0/users/${target.id}`, { token: userWrite });
    expect(refused.status, refused.text).toBe(403);
    expect(graphErrorCode(refused)).toBe('Authorization_RequestDenied');
    expect(c.emulator.tenant.users.has(target.id)).toBe(true);

    const plain = plainUser();
    expect((await c.graph('DELETE', `/v1.0/users/${plain.id}`, { token: userWrite })).status).toBe(204);
    expect((await c.graph('DELETE', `/v1.0/users/${target.id}`, { token: await delegated(admin, 'Directory.AccessAsUser.All') })).status).toBe(204);
    expect(c.emulator.tenant.users.has(target.id)).toBe(false);
  });
});

// user-update: "To update sensitive user properties, such as accountEnabled, mobilePhone, and otherMails for
// users with privileged administrator roles: In delegated scenarios, the app must be assigned the
// Directory.AccessAsUser.All delegated permission and the calling user must have a higher privileged
// administrator role" (any directory role here, every sensitive property: the stricter reading).
describe('delegated sensitive updates of administrators (user-update note)', () => {
  it("the signed-in Global Administrator changes an administrator's accountEnabled, phones or passwordProfile only with Directory.AccessAsUser.All: User.ReadWrite.All (and User-PasswordProfile.ReadWrite.All) is 403 and changes nothing", async () => {
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const target = plainUser();
    target._directoryRoles = ['Helpdesk Administrator'];
    const phoneBefore = target.mobilePhone;
    const refusals: Array<[string, Record<string, unknown>]> = [
      ['User.ReadWrite.All', { accountEnabled: false }],
      ['User.ReadWrite.All', { mobilePhone: '+1 425 555 0199' }],
      ['User.ReadWrite.All', { businessPhones: ['+1 425 555 0100'] }],
      ['User-Phone.ReadWrite.All', { mobilePhone: '+1 425 555 0199' }],
      ['User-PasswordProfile.ReadWrite.All', { passwordProfile: { forceChangePasswordNextSignIn: true } }],
    ];
    for (const [scp, body] of refusals) {
      const refused = await c.graph('PATCH', `/v1.0/users/${target.id}`, { body, token: await delegated(admin, scp) });
      expect(refused.status, `${scp} ${JSON.stringify(body)}`).toBe(403);
      expect(graphErrorCode(refused)).toBe('Authorization_RequestDenied');
    }
    expect(target.accountEnabled).toBe(true);
    expect(target.mobilePhone).toBe(phoneBefore);
    // A property that is not sensitive needs no more than the write permission.
    expect(
      (await c.graph('PATCH', `/v1.0/users/${target.id}`, { body: { jobTitle: 'Helpdesk lead' }, token: await delegated(admin, 'User.ReadWrite.All') })).status,
    ).toBe(204);
    const asUser = await delegated(admin, 'Directory.AccessAsUser.All');
    expect((await c.graph('PATCH', `/v1.0/users/${target.id}`, { body: { accountEnabled: false }, token: asUser })).status).toBe(204);
    expect(target.accountEnabled).toBe(false);
    target.accountEnabled = true;
  });

  it('a user without an admin role is changed with User.ReadWrite.All alone', async () => {
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const target = plainUser();
    const token = await delegated(admin, 'User.ReadWrite.All');
    expect((await c.graph('PATCH', `/v1.0/users/${target.id}`, { body: { accountEnabled: false, mobilePhone: '+1 425 555 0123' }, token })).status).toBe(204);
    expect(target.accountEnabled).toBe(false);
    target.accountEnabled = true;
  });
});

describe('app-only sensitive actions (user-update note; resources/users "Who can perform sensitive actions")', () => {
  const ROLELESS_APP = '33333333-4444-4555-8666-777777777777';
  const USER_ADMIN_APP = '44444444-5555-4666-8777-888888888888';
  beforeAll(() => {
    registerApp(c.emulator, ROLELESS_APP, []);
    registerApp(c.emulator, USER_ADMIN_APP, ['User Administrator']);
  });
  const asApp = (appid: string) => mintToken(c.emulator, { appid, roles: ['User.EnableDisableAccount.All', 'User.Read.All'] });

  // The current user-update rows of accountEnabled, mobilePhone and otherMails: "In app-only scenarios in addition
  // to Microsoft Graph permissions, the app must be assigned a higher privileged administrator role as indicated in
  // Who can perform sensitive actions", for every target (the older note spoke of targets holding admin roles only).
  it('app-only, a sensitive property of a user without an admin role needs a role too: none → 403 and nothing changes; User Administrator → 204', async () => {
    const target = plainUser();
    const refused = await c.graph('PATCH', `/v1.0/users/${target.id}`, { body: { accountEnabled: false }, token: await asApp(ROLELESS_APP) });
    expect(refused.status, refused.text).toBe(403);
    expect(graphErrorCode(refused)).toBe('Authorization_RequestDenied');
    expect(target.accountEnabled).toBe(true);
    const phones = await mintToken(c.emulator, { appid: ROLELESS_APP, roles: ['User-Phone.ReadWrite.All'] });
    expect((await c.graph('PATCH', `/v1.0/users/${target.id}`, { body: { mobilePhone: '+1 425 555 0199' }, token: phones })).status).toBe(403);
    const res = await c.graph('PATCH', `/v1.0/users/${target.id}`, { body: { accountEnabled: false }, token: await asApp(USER_ADMIN_APP) });
    expect(res.status).toBe(204);
    expect(target.accountEnabled).toBe(false);
    target.accountEnabled = true;
  });

  // user-update: "User.EnableDisableAccount.All + User.Read.All is the least privileged combination of
  // permissions to update the accountEnabled property" — a combination, not the write permission alone.
  it('User.EnableDisableAccount.All alone is 403 Authorization_RequestDenied; with User.Read.All (or a higher reader) it is 204', async () => {
    const target = plainUser();
    for (const [roles, status] of [
      [['User.EnableDisableAccount.All'], 403],
      [['User.EnableDisableAccount.All', 'User.Read.All'], 204],
      [['User.EnableDisableAccount.All', 'Directory.Read.All'], 204],
    ] as const) {
      const token = await mintToken(c.emulator, { appid: USER_ADMIN_APP, roles: [...roles] });
      const res = await c.graph('PATCH', `/v1.0/users/${target.id}`, { body: { accountEnabled: true }, token });
      expect(res.status, roles.join(' + ')).toBe(status);
      if (status === 403) expect(graphErrorCode(res)).toBe('Authorization_RequestDenied');
    }
    const delegated = await mintToken(c.emulator, { appid: ROLELESS_APP, scp: 'User.EnableDisableAccount.All', oid: c.emulator.tenant.wellKnown.adminUserId });
    expect((await c.graph('PATCH', `/v1.0/users/${target.id}`, { body: { accountEnabled: true }, token: delegated })).status).toBe(403);
  });

  it('a target holding an admin role needs a role that outranks it: none → 403; User Administrator covers a Helpdesk Administrator, not a Global Administrator', async () => {
    const helpdesk = withRole('Helpdesk Administrator')[0]!;
    const globalAdmin = withRole('Global Administrator')[0] ?? c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const roleless = await c.graph('PATCH', `/v1.0/users/${helpdesk.id}`, { body: { accountEnabled: false }, token: await asApp(ROLELESS_APP) });
    expect(roleless.status).toBe(403);
    expect(graphErrorCode(roleless)).toBe('Authorization_RequestDenied');
    const userAdmin = await asApp(USER_ADMIN_APP);
    expect((await c.graph('PATCH', `/v1.0/users/${helpdesk.id}`, { body: { accountEnabled: false }, token: userAdmin })).status).toBe(204);
    helpdesk.accountEnabled = true;
    expect((await c.graph('PATCH', `/v1.0/users/${globalAdmin.id}`, { body: { accountEnabled: false }, token: userAdmin })).status).toBe(403);
    expect(globalAdmin.accountEnabled).toBe(true);
  });

  it("the sandbox's demo app holds the roles that reach every user (User Administrator and Privileged Authentication Administrator)", () => {
    const demo = c.emulator.tenant.apps.get(c.emulator.tenant.wellKnown.demoAppId)!;
    expect(demo.directoryRoles).toEqual(expect.arrayContaining(['User Administrator', 'Privileged Authentication Administrator']));
    expect(demo.graphAppRoles).toEqual(expect.arrayContaining(['User.EnableDisableAccount.All', 'Directory.Read.All']));
  });
});

describe('revokeSignInSessions (user-revokesigninsessions)', () => {
  it('answers 200 {"value": true}', async () => {
    const res = await c.graph('POST', `/v1.0/users/${plainUser().id}/revokeSignInSessions`, { body: {} });
    expect(res.status).toBe(200);
    expect(res.body.value).toBe(true);
  });

  it('succeeds for an external (B2B) user without revoking anything: they sign in through their home tenant', async () => {
    const guest = c.users.find((u) => u.userType === 'Guest' && u.userPrincipalName.includes('#EXT#'))!;
    expect(guest).toBeDefined();
    const validFrom = guest.signInSessionsValidFromDateTime;
    const res = await c.graph('POST', `/v1.0/users/${guest.id}/revokeSignInSessions`, { body: {} });
    expect(res.status).toBe(200);
    expect(res.body.value).toBe(true);
    expect(guest.signInSessionsValidFromDateTime).toBe(validFrom);
  });

  it('known issue "Revoke sign-in sessions returns wrong HTTP code": the documented answer is 204 No Content (the service gives 200 {"value": true}); the switch gives 204, and the revocation still happens', async () => {
    const target = plainUser();
    const set = await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ revokeSignInSessionsStatus: 204 }) });
    expect(set.status).toBe(200);
    try {
      const before = target.signInSessionsValidFromDateTime;
      await new Promise((r) => setTimeout(r, 1100)); // whole-second granularity
      const res = await c.graph('POST', `/v1.0/users/${target.id}/revokeSignInSessions`, { body: {} });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(target.signInSessionsValidFromDateTime).not.toBe(before);
      // Inside $batch too: a 204 item without a body.
      const batch = await c.graph('POST', '/v1.0/$batch', {
        body: {
          requests: [{ id: '1', method: 'POST', url: `/users/${target.id}/revokeSignInSessions`, body: {}, headers: { 'Content-Type': 'application/json' } }],
        },
      });
      expect(batch.body.responses[0]).toMatchObject({ id: '1', status: 204 });
      const bad = await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ revokeSignInSessionsStatus: 202 }) });
      expect(bad.status).toBe(400);
    } finally {
      await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ revokeSignInSessionsStatus: 200 }) });
    }
    expect(graphSettingsFromEnv({ EMULATOR_REVOKE_SESSIONS_STATUS: '204' })).toEqual({ revokeSignInSessionsStatus: 204 });
    expect(() => graphSettingsFromEnv({ EMULATOR_REVOKE_SESSIONS_STATUS: 'no' })).toThrow(/EMULATOR_REVOKE_SESSIONS_STATUS/);
  });
});

// user-update, "Permissions for specific scenarios": User-Phone.ReadWrite.All is the least privileged
// permission for businessPhones and mobilePhone, User-Mail.ReadWrite.All for otherMails.
describe('phone and other-mail permissions (user-update, "Permissions for specific scenarios")', () => {
  it('app-only User-Phone.ReadWrite.All changes businessPhones and mobilePhone, User-Mail.ReadWrite.All otherMails; neither reaches the other nor other properties', async () => {
    const target = plainUser();
    const phones = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles: ['User-Phone.ReadWrite.All'] });
    const mails = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles: ['User-Mail.ReadWrite.All'] });
    const patch = (body: Record<string, unknown>, token: string) => c.graph('PATCH', `/v1.0/users/${target.id}`, { body, token });
    expect((await patch({ businessPhones: ['+1 425 555 0109'], mobilePhone: '+1 425 555 0110' }, phones)).status).toBe(204);
    expect((await patch({ otherMails: ['alt@fabrikam.example'] }, mails)).status).toBe(204);
    expect(target.businessPhones).toEqual(['+1 425 555 0109']);
    expect(target.mobilePhone).toBe('+1 425 555 0110');
    expect(target.otherMails).toEqual(['alt@fabrikam.example']);
    for (const [body, token] of [
      [{ otherMails: ['x@fabrikam.example'] }, phones],
      [{ mobilePhone: '+1 425 555 0111' }, mails],
      [{ jobTitle: 'Phone only' }, phones],
    ] as const) {
      const refused = await patch(body, token);
      expect(refused.status, JSON.stringify(body)).toBe(403);
      expect(graphErrorCode(refused)).toBe('Authorization_RequestDenied');
    }
  });

  it("regression: User.ReadUpdate.All, the call's least privileged permission, changes a job title but not phones or otherMails (not named for them): 403 Authorization_RequestDenied, nothing changes, also mixed with a job title", async () => {
    const target = plainUser();
    const before = {
      businessPhones: [...target.businessPhones],
      mobilePhone: target.mobilePhone,
      otherMails: [...target.otherMails],
      jobTitle: target.jobTitle,
    };
    const appOnly = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles: ['User.ReadUpdate.All'] });
    const asAdmin = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, scp: 'User.ReadUpdate.All', oid: c.emulator.tenant.wellKnown.adminUserId });
    for (const token of [appOnly, asAdmin]) {
      for (const body of [
        { mobilePhone: '+1 425 555 0113' },
        { businessPhones: ['+1 425 555 0114'] },
        { otherMails: ['other@fabrikam.example'] },
        { jobTitle: 'Mixed', mobilePhone: '+1 425 555 0115' },
      ]) {
        const refused = await c.graph('PATCH', `/v1.0/users/${target.id}`, { body, token });
        expect(refused.status, JSON.stringify(body)).toBe(403);
        expect(graphErrorCode(refused)).toBe('Authorization_RequestDenied');
      }
    }
    expect({ businessPhones: target.businessPhones, mobilePhone: target.mobilePhone, otherMails: target.otherMails, jobTitle: target.jobTitle }).toEqual(
      before,
    );
    expect((await c.graph('PATCH', `/v1.0/users/${target.id}`, { body: { jobTitle: 'Updated with ReadUpdate' }, token: appOnly })).status).toBe(204);
    expect(target.jobTitle).toBe('Updated with ReadUpdate');
    // The general write permissions still reach them (their descriptions cover every declared property).
    const readWrite = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles: ['User.ReadWrite.All'] });
    expect((await c.graph('PATCH', `/v1.0/users/${target.id}`, { body: { mobilePhone: '+1 425 555 0116' }, token: readWrite })).status).toBe(204);
  });

  it('delegated, a User Administrator changes phones with User-Phone.ReadWrite.All', async () => {
    const target = plainUser();
    const token = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, scp: 'User-Phone.ReadWrite.All', oid: c.emulator.tenant.wellKnown.adminUserId });
    expect((await c.graph('PATCH', `/v1.0/users/${target.id}`, { body: { mobilePhone: '+1 425 555 0112' }, token })).status).toBe(204);
  });
});

// microsoft-graph-docs#4267 (2019, "bug: product"): a passwordProfile with forceChangePasswordNextSignIn and no
// password answered 204 and changed nothing; later reports have it applied. The emulator sets it by default and
// reproduces the older answer behind `forceChangeWithoutPassword: 'ignored'`.
describe('forceChangePasswordNextSignIn without a password (microsoft-graph-docs#4267)', () => {
  it('applied by default; with the switch at "ignored" the same 204 and nothing changes; a password still applies both', async () => {
    const app = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles: ['User-PasswordProfile.ReadWrite.All'] });
    const flagOnly = { passwordProfile: { forceChangePasswordNextSignIn: true } };
    const first = plainUser();
    expect((await c.graph('PATCH', `/v1.0/users/${first.id}`, { body: flagOnly, token: app })).status).toBe(204);
    expect(first.passwordProfile.forceChangePasswordNextSignIn).toBe(true);

    expect((await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ forceChangeWithoutPassword: 'ignored' }) })).status).toBe(200);
    try {
      const second = plainUser();
      expect((await c.graph('PATCH', `/v1.0/users/${second.id}`, { body: flagOnly, token: app })).status).toBe(204);
      expect(second.passwordProfile.forceChangePasswordNextSignIn).toBe(false);
      const withPassword = { passwordProfile: { forceChangePasswordNextSignIn: true, password: 'Zq8!vLm#4pRt-4267' } };
      expect((await c.graph('PATCH', `/v1.0/users/${second.id}`, { body: withPassword, token: app })).status).toBe(204);
      expect(second.passwordProfile.forceChangePasswordNextSignIn).toBe(true);
      const bad = await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ forceChangeWithoutPassword: 'sometimes' }) });
      expect(bad.status).toBe(400);
    } finally {
      await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ forceChangeWithoutPassword: 'applied' }) });
    }
    expect(graphSettingsFromEnv({ EMULATOR_FORCE_CHANGE_WITHOUT_PASSWORD: 'ignored' })).toEqual({ forceChangeWithoutPassword: 'ignored' });
  });
});
