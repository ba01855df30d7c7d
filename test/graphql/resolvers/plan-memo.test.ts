/**
 * Selection plans are kept per node of the (cached) document: a field whose selections use no
 * variable is planned once for every request, a field whose selections do use one is planned per
 * request (its plan may differ with the variables), and kept with that request's variables, not
 * with the document.
 */
import { type FieldNode, type SelectionSetNode, execute, parse } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { describe, expect, it } from 'vitest';
import { createPlanCache, memoizedPlan, memoizedSelectionPlan } from '../../../src/graphql/resolvers/plan-memo.js';

const typeDefs = /* GraphQL */ `
  type Query {
    user(id: ID!): User
  }
  type User {
    id: ID!
    name: String
    reports(first: Int): [User!]!
  }
`;

function harness() {
  const selectionPlans = createPlanCache<SelectionSetNode, number>();
  const fieldPlans = createPlanCache<FieldNode, number>();
  const planned = { user: 0, reports: 0 };
  const schema = makeExecutableSchema({
    typeDefs,
    resolvers: {
      Query: {
        user: (_p: unknown, args: { id: string }, _c: unknown, info) => {
          memoizedSelectionPlan(selectionPlans, info, 'User', () => ++planned.user);
          return { id: args.id, name: `user ${args.id}` };
        },
      },
      User: {
        reports: (_p: unknown, _a: unknown, _c: unknown, info) => {
          memoizedPlan(fieldPlans, info, () => ++planned.reports);
          return [];
        },
      },
    },
  });
  return { schema, planned };
}

describe('memoized selection plans', () => {
  it('plan a lookup by $id once for every request: its selections use no variable', async () => {
    const { schema, planned } = harness();
    const document = parse('query Lookup($id: ID!) { user(id: $id) { ...Card } } fragment Card on User { id name reports(first: 5) { id } }');
    for (const id of ['a', 'b', 'c']) {
      const result = await execute({ schema, document, variableValues: { id } });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ user: { id, name: `user ${id}`, reports: [] } });
    }
    expect(planned).toEqual({ user: 1, reports: 1 });
  });

  it('plan again per request when the selections use a variable, directly or through a fragment', async () => {
    const { schema, planned } = harness();
    const document = parse(
      'query Lookup($id: ID!, $n: Int, $withName: Boolean!) { user(id: $id) { ...Card } } fragment Card on User { id name @include(if: $withName) reports(first: $n) { id } }',
    );
    for (const [n, withName] of [
      [1, true],
      [2, false],
      [3, true],
    ] as const) {
      const result = await execute({ schema, document, variableValues: { id: 'a', n, withName } });
      expect(result.errors).toBeUndefined();
    }
    expect(planned).toEqual({ user: 3, reports: 3 });
  });
});
