import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse, type FieldDefinitionNode, type ObjectTypeDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { FEATURES, GRAPH_OPERATIONS, renderPermissionsMarkdown, satisfyingSet } from '../../src/doctor/feature-permissions.js';
import { featurePermissionChecks } from '../../src/doctor/permission-checks.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Table rows with the cell padding a formatter may add taken out. */
function normalizeTable(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) =>
      l
        .split('|')
        .map((cell) => cell.trim())
        .map((cell) => (/^-+$/.test(cell) ? '---' : cell))
        .join('|'),
    );
}

describe('the feature → permissions table', () => {
  it('is what docs/operations.md shows (regenerate with `npm run doctor -- --permissions-markdown`)', () => {
    const docs = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
    const block = /<!-- doctor-permissions:start -->([\s\S]*?)<!-- doctor-permissions:end -->/.exec(docs)?.[1];
    expect(block, 'docs/operations.md has the doctor-permissions block').toBeDefined();
    expect(normalizeTable(block!)).toEqual(normalizeTable(renderPermissionsMarkdown()));
  });

  it("agrees with the schema: every mutation is covered, with the schema's deployment mode and caller permission", () => {
    const sdl = ['base.graphql', 'mutations.graphql'].map((f) => readFileSync(path.join(ROOT, 'schema', f), 'utf8')).join('\n');
    const mutation = parse(sdl).definitions.find(
      (d): d is ObjectTypeDefinitionNode => (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) && d.name.value === 'Mutation',
    );
    const fields: readonly FieldDefinitionNode[] = mutation?.fields ?? [];
    expect(fields.length).toBeGreaterThan(10);
    for (const field of fields) {
      const name = `Mutation.${field.name.value}`;
      const feature = FEATURES.find((f) => f.fields.includes(name));
      expect(feature, `${name} has a feature in src/doctor/feature-permissions.ts`).toBeDefined();
      const argOf = (directive: string, arg: string) => {
        const value = field.directives?.find((d) => d.name.value === directive)?.arguments?.find((a) => a.name.value === arg)?.value;
        return value && (value.kind === Kind.ENUM || value.kind === Kind.STRING) ? value.value : undefined;
      };
      expect(argOf('deployment', 'requires') === 'SELF_DEPLOYED' ? 'self-deployed' : 'both', name).toBe(feature!.modes);
      expect(argOf('requiresPermission', 'permission'), name).toBe(feature!.callerPermission);
    }
  });

  it('accepts a documented higher permission, needs every permission of a combined set, and compares names case-insensitively', () => {
    expect(satisfyingSet(GRAPH_OPERATIONS.getUser.application, new Set(['User.ReadWrite.All']))).toEqual(['User.ReadWrite.All']);
    expect(satisfyingSet(GRAPH_OPERATIONS.setAccountEnabled.application, new Set(['User.EnableDisableAccount.All']))).toBeUndefined();
    expect(satisfyingSet(GRAPH_OPERATIONS.setAccountEnabled.application, new Set(['User.EnableDisableAccount.All', 'user.read.all']))).toEqual([
      'User.EnableDisableAccount.All',
      'User.Read.All',
    ]);
    // Directory.ReadWrite.All does not allow deleting users.
    expect(satisfyingSet(GRAPH_OPERATIONS.deleteUser.application, new Set(['Directory.ReadWrite.All']))).toBeUndefined();
    // Nor do it or User.ReadWrite.All change passwords (permissions-reference; docs/graph-facts.md#writes-and-permissions).
    for (const kind of ['application', 'delegated'] as const) {
      expect(satisfyingSet(GRAPH_OPERATIONS.setPasswordProfile[kind], new Set(['User.ReadWrite.All', 'Directory.ReadWrite.All']))).toBeUndefined();
      expect(satisfyingSet(GRAPH_OPERATIONS.setPasswordProfile[kind], new Set(['User-PasswordProfile.ReadWrite.All']))).toEqual([
        'User-PasswordProfile.ReadWrite.All',
      ]);
    }
  });
});

describe('permissions a signed-in user needs to act on administrators', () => {
  // user-delete: "To delete users with privileged administrator roles in delegated scenarios, the app must be
  // assigned the Directory.AccessAsUser.All delegated permission" (docs/graph-facts.md#writes-and-permissions).
  const deleteUser = FEATURES.find((f) => f.id === 'deleteUser')!;
  const check = (kind: 'application' | 'delegated', granted: string[]) =>
    featurePermissionChecks([{ feature: deleteUser, state: 'enabled' }], kind, new Set(granted))[0]!;

  it('delegated User.ReadWrite.All deletes users without admin roles only: the line is ok and names Directory.AccessAsUser.All for administrators', () => {
    const line = check('delegated', ['User.ReadWrite.All']);
    expect(line.status).toBe('ok');
    expect(line.message).toContain('reaches users without admin roles only');
    expect(line.message).toContain('Directory.AccessAsUser.All');
  });

  // user-update: "To update sensitive user properties, such as accountEnabled, mobilePhone, and otherMails for
  // users with privileged administrator roles: In delegated scenarios, the app must be assigned the
  // Directory.AccessAsUser.All delegated permission" (docs/graph-facts.md#writes-and-permissions).
  it.each([
    ['disableAccount', ['User.ReadWrite.All']],
    ['terminateSession', ['User.RevokeSessions.All', 'User.EnableDisableAccount.All', 'User.Read.All']],
    ['changePassword', ['User-PasswordProfile.ReadWrite.All']],
    ['updateUserPhones', ['User-Phone.ReadWrite.All']],
  ] as const)('delegated %s with %j reaches users without admin roles only, and the line names Directory.AccessAsUser.All', (id, granted) => {
    const feature = FEATURES.find((f) => f.id === id)!;
    const line = featurePermissionChecks([{ feature, state: 'enabled' }], 'delegated', new Set(granted))[0]!;
    expect(line.status).toBe('ok');
    expect(line.message).toMatch(/PATCH \/users\/\{id\} \{[a-zA-Z, ]+\} reaches users without admin roles only: Graph asks .*Directory\.AccessAsUser\.All/);
    const full = featurePermissionChecks([{ feature, state: 'enabled' }], 'delegated', new Set([...granted, 'Directory.AccessAsUser.All']))[0]!;
    expect(full.message).not.toContain('admin roles only');
  });

  it('delegated Directory.AccessAsUser.All, and app-only User.ReadWrite.All, carry no such note', () => {
    expect(check('delegated', ['Directory.AccessAsUser.All']).message).not.toContain('admin roles only');
    expect(check('delegated', ['User.ReadWrite.All', 'Directory.AccessAsUser.All']).message).not.toContain('admin roles only');
    expect(check('application', ['User.ReadWrite.All']).message).not.toContain('admin roles only');
  });
});
