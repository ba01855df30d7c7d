import { describe, expect, it } from 'vitest';
import { callerAnswerShare, createAnswerBudget } from '../../../src/graphql/budget/index.js';

/**
 * The arithmetic of the answers-in-flight budget (src/graphql/budget/answers-in-flight.ts); the
 * production build under attack is test/reliability/answers-in-flight.test.ts.
 */
describe('answers in flight', () => {
  it('a caller holds at most its share; the budget of all refuses past its total; releases give back', () => {
    const budget = createAnswerBudget(500_000, callerAnswerShare(500_000, 250_000));
    const a = budget.forCaller('a');
    expect(a.reserve(113_000)).toBe('taken');
    expect(a.reserve(113_000)).toBe('taken');
    expect(a.reserve(113_000)).toBe('share-spent');
    const b = budget.forCaller('b');
    expect(b.reserve(200_000)).toBe('taken');
    expect(budget.forCaller('c').reserve(100_000)).toBe('budget-spent');
    a.release(113_000);
    expect(budget.forCaller('c').reserve(100_000)).toBe('taken');
    expect(budget.inUse()).toBe(413_000);
  });

  it('the share is a quarter of the budget, never less than one answer of the largest size allowed, never more than the budget', () => {
    expect(callerAnswerShare(500_000, 250_000)).toBe(250_000);
    expect(callerAnswerShare(4_000_000, 250_000)).toBe(1_000_000);
    expect(callerAnswerShare(250_000, 250_000)).toBe(250_000);
  });

  it('small operations (a hundredth of the budget or less) are counted but never refused, so large answers cannot turn them away', () => {
    const budget = createAnswerBudget(500_000, 250_000);
    expect(budget.forCaller('a').reserve(250_000)).toBe('taken');
    expect(budget.forCaller('b').reserve(250_000)).toBe('taken');
    expect(budget.forCaller('c').reserve(5_001)).toBe('budget-spent');
    expect(budget.forCaller('a').reserve(5_000)).toBe('taken');
    expect(budget.forCaller('c').reserve(5_000)).toBe('taken');
    expect(budget.inUse()).toBe(510_000);
  });
});
