import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { deploymentModeRule } from '../../../src/graphql/deployment/index.js';
import { graphIdentityFactsOf, graphIdentityRule, requiredGraphIdentity, type GraphIdentityFacts } from '../../../src/graphql/graph-identity/index.js';
import { withoutFederationSyntax } from '../../../src/graphql/federation/index.js';
import { loadSchemaSource } from '../../../src/graphql/schema.js';

// The schema exactly as the gateway serves it without FEDERATION=true: every SDL file of schema/.
const schema = buildSchema(withoutFederationSyntax(loadSchemaSource()));

const APP_ONLY = graphIdentityFactsOf({ kind: 'client-credentials', delegated: false });
const BROKER = graphIdentityFactsOf({ kind: 'hosted-broker', delegated: false });
const AUTH_CODE = graphIdentityFactsOf({ kind: 'authorization-code', delegated: true });
const OBO = graphIdentityFactsOf({ kind: 'on-behalf-of', delegated: true });

const ON_PREM = 'changePasswordOnPremises(input: {user: "x@contoso.example", password: "p"}) { status }';

function errorsOf(source: string, identity: GraphIdentityFacts, mode: 'self-deployed' | 'hosted' = 'self-deployed') {
  return validate(schema, parse(source), [...specifiedRules, deploymentModeRule(mode), graphIdentityRule(identity, mode)]);
}

describe('graphIdentityRule', () => {
  it('marks exactly changePasswordOnPremises as DELEGATED-only (Graph: resetPassword "Application: Not supported")', () => {
    const marked = Object.values(schema.getMutationType()!.getFields())
      .filter((f) => requiredGraphIdentity(f, schema) !== undefined)
      .map((f) => [f.name, requiredGraphIdentity(f, schema)]);
    expect(marked).toEqual([['changePasswordOnPremises', 'delegated']]);
    expect(schema.getMutationType()!.getFields().changePasswordOnPremises!.description).toMatch(/DELEGATED Graph identity/);
  });

  it.each([
    ['client credentials', APP_ONLY, 'client-credentials'],
    ['the hosted broker (app-only)', BROKER, 'hosted-broker'],
  ])('refuses it under %s with its own code, the flow needed and how to get there', (_name, identity, flow) => {
    const errors = errorsOf(`mutation { ${ON_PREM} }`, identity);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.extensions).toMatchObject({
      code: 'UNSUPPORTED_GRAPH_IDENTITY',
      requiredIdentity: 'delegated',
      currentIdentity: 'app-only',
      currentFlow: flow,
      field: 'Mutation.changePasswordOnPremises',
    });
    expect(errors[0]!.message).toContain('GRAPH_AUTH_FLOW=authorization-code');
    expect(errors[0]!.message).toContain('/auth/login');
    expect(errors[0]!.message).toContain('GRAPH_AUTH_FLOW=on-behalf-of');
    expect(errors[0]!.message).toContain('delegated Graph permissions');
  });

  it('allows it under a delegated identity (authorization code, on-behalf-of), and allows every other field under app-only', () => {
    expect(errorsOf(`mutation { ${ON_PREM} }`, AUTH_CODE)).toEqual([]);
    expect(errorsOf(`mutation { ${ON_PREM} }`, OBO)).toEqual([]);
    expect(errorsOf('mutation { changePassword(input: {user: "x@contoso.example", password: "p"}) { requestId } }', APP_ONLY)).toEqual([]);
  });

  it('sees through aliases, named and inline fragments, once per field; a document mixing allowed fields is refused as a whole', () => {
    const errors = errorsOf(
      `mutation {
        enableAccount(input: {user: "a@b.example"}) { accountEnabled }
        a: ${ON_PREM}
        ...F
        ... on Mutation { b: ${ON_PREM} }
      }
      fragment F on Mutation { c: ${ON_PREM} }`,
      APP_ONLY,
    );
    expect(errors.map((e) => e.extensions.code)).toEqual(['UNSUPPORTED_GRAPH_IDENTITY']);
  });

  it('in hosted mode leaves the field to the deployment rule: one refusal, UNSUPPORTED_DEPLOYMENT_MODE', () => {
    const errors = errorsOf(`mutation { ${ON_PREM} }`, BROKER, 'hosted');
    expect(errors.map((e) => e.extensions.code)).toEqual(['UNSUPPORTED_DEPLOYMENT_MODE']);
  });
});
