import { buildSchema, parse, validate, specifiedRules, getOperationAST } from 'graphql';
import { describe, expect, it } from 'vitest';
import { deploymentModeRule } from '../../../src/graphql/deployment/index.js';
import { missingPermissions } from '../../../src/graphql/permissions/index.js';
import { withoutFederationSyntax } from '../../../src/graphql/federation/index.js';
import { loadSchemaSource } from '../../../src/graphql/schema.js';
import { Permission } from '../../../src/identity/types.js';

// The schema exactly as the gateway serves it without FEDERATION=true: every SDL file of schema/.
const schema = buildSchema(withoutFederationSyntax(loadSchemaSource()));

const SELF_DEPLOYED_ONLY = ['terminateSession', 'changePassword', 'forceResetPassword', 'changePasswordOnPremises', 'disableAccount', 'revokeSignInSessions'];

function errorsOf(source: string, mode: 'hosted' | 'self-deployed') {
  return validate(schema, parse(source), [...specifiedRules, deploymentModeRule(mode)]);
}

describe('deploymentModeRule', () => {
  it('marks exactly the self-deployed-only mutations with @deployment(requires: SELF_DEPLOYED)', () => {
    const mutation = schema.getMutationType()!;
    const marked = Object.values(mutation.getFields())
      .filter((f) => f.astNode?.directives?.some((d) => d.name.value === 'deployment'))
      .map((f) => f.name)
      .sort();
    expect(marked).toEqual([...SELF_DEPLOYED_ONLY].sort());
    // The requirement is also in words, where people read it.
    for (const name of SELF_DEPLOYED_ONLY) expect(mutation.getFields()[name]!.description).toMatch(/self-deployed mode/);
  });

  it.each(SELF_DEPLOYED_ONLY)('refuses %s in hosted mode with the contract code, both modes and how to switch', (field) => {
    const errors = errorsOf(
      `mutation { ${field}(input: {user: "x@contoso.example"${field.startsWith('change') ? ', password: "p"' : ''}}) { __typename } }`,
      'hosted',
    );
    expect(errors).toHaveLength(1);
    const error = errors[0]!;
    expect(error.extensions).toMatchObject({ code: 'UNSUPPORTED_DEPLOYMENT_MODE', requiredMode: 'self-deployed', currentMode: 'hosted' });
    expect(error.message).toContain(`Mutation.${field}`);
    expect(error.message).toContain('DEPLOYMENT_MODE=self-deployed');
    expect(error.message).toContain('AZURE_CLIENT_ID');
  });

  it('allows the same documents in self-deployed mode', () => {
    for (const field of SELF_DEPLOYED_ONLY) {
      const doc = `mutation { ${field}(input: {user: "x@contoso.example"${field.startsWith('change') ? ', password: "p"' : ''}}) { __typename } }`;
      expect(errorsOf(doc, 'self-deployed')).toEqual([]);
    }
  });

  it('sees through aliases, named fragments, inline fragments and variables', () => {
    const doc = `
      mutation Contain($u: ID!) {
        a1: revokeSignInSessions(input: {user: $u}) { revoked }
        a2: revokeSignInSessions(input: {user: $u}) { revoked }
        ...Frag
        ... on Mutation { terminateSession(input: {user: $u}) { succeeded } }
      }
      fragment Frag on Mutation { off: disableAccount(input: {user: "a@b.example"}) { accountEnabled } }`;
    const errors = errorsOf(doc, 'hosted');
    const fields = errors.map((e) => e.extensions.field).sort();
    // One error per field, however many aliases select it.
    expect(fields).toEqual(['Mutation.disableAccount', 'Mutation.revokeSignInSessions', 'Mutation.terminateSession']);
  });

  it('refuses a document mixing allowed and refused fields as a whole, and leaves allowed-only documents alone', () => {
    const mixed = errorsOf(
      `mutation { enableAccount(input: {user: "a@b.example"}) { accountEnabled } disableAccount(input: {user: "a@b.example"}) { accountEnabled } }`,
      'hosted',
    );
    expect(mixed.map((e) => e.extensions.code)).toEqual(['UNSUPPORTED_DEPLOYMENT_MODE']);
    expect(errorsOf(`mutation { enableAccount(input: {user: "a@b.example"}) { accountEnabled } }`, 'hosted')).toEqual([]);
    expect(errorsOf(`{ user(id: "a@b.example") { id displayName } }`, 'hosted')).toEqual([]);
  });

  it('rejects an unknown mode at construction', () => {
    expect(() => deploymentModeRule('cloud' as never)).toThrow(/self-deployed' or 'hosted'/);
  });
});

describe('missingPermissions', () => {
  const check = (source: string, permissions: Permission[]) => {
    const document = parse(source);
    return missingPermissions(schema, document, getOperationAST(document)!, { permissions: new Set(permissions) });
  };

  it('names each privileged field the caller may not use, through fragments and aliases', () => {
    const doc = `
      mutation {
        x: terminateSession(input: {user: "a@b.example"}) { succeeded }
        ...F
      }
      fragment F on Mutation { createTemporaryAccessPass(input: {user: "a@b.example"}) { temporaryAccessPass { id } } }`;
    expect(check(doc, [Permission.UsersRead])).toEqual([
      { coordinate: 'Mutation.terminateSession', permission: 'Users.Terminate' },
      { coordinate: 'Mutation.createTemporaryAccessPass', permission: 'Users.ManageAuthMethods' },
    ]);
    expect(check(doc, [Permission.UsersTerminate, Permission.UsersManageAuthMethods])).toEqual([]);
  });

  it('requires the documented permission of every mutation', () => {
    const expected: Record<string, string> = {
      terminateSession: 'Users.Terminate',
      revokeSignInSessions: 'Users.Terminate',
      disableAccount: 'Users.Terminate',
      enableAccount: 'Users.Terminate',
      changePassword: 'Users.ChangePassword',
      forceResetPassword: 'Users.ChangePassword',
      changePasswordOnPremises: 'Users.ChangePassword',
      createUser: 'Users.Write',
      updateUser: 'Users.Write',
      deleteUser: 'Users.Write',
      assignManager: 'Users.Write',
      removeManager: 'Users.Write',
      deleteAuthenticationMethod: 'Users.ManageAuthMethods',
      createTemporaryAccessPass: 'Users.ManageAuthMethods',
      deleteTemporaryAccessPass: 'Users.ManageAuthMethods',
    };
    const fields = schema.getMutationType()!.getFields();
    expect(Object.keys(fields).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, permission] of Object.entries(expected)) {
      const directive = fields[name]!.astNode!.directives!.find((d) => d.name.value === 'requiresPermission')!;
      expect((directive.arguments![0]!.value as { value: string }).value, name).toBe(permission);
      expect(fields[name]!.description, name).toContain(permission);
    }
  });

  it('asks Users.Read of reads (reads are authorized like writes)', () => {
    expect(check(`{ users(first: 1) { nodes { id } } }`, [])).toEqual([{ coordinate: 'Query.users', permission: 'Users.Read' }]);
    expect(check(`{ users(first: 1) { nodes { id } } }`, [Permission.UsersRead])).toEqual([]);
  });
});
