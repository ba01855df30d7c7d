import { describe, expect, it } from 'vitest';
import type { GraphUser } from '../../src/graph/api.js';
import { answerGetByIds } from '../../src/graph/get-by-ids-result.js';

/**
 * answerGetByIds, shared by the per-request user loader and the cross-request coalescer: each
 * lookup gets its own answer whatever mix Graph sent. The gateway tests (get-by-ids-incomplete,
 * coalescing-gateway) meet only answers where every user is complete or every user is not; this
 * pins the mixed answer, in Graph's order rather than the lookups'.
 */
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('answerGetByIds', () => {
  it('answers each lookup in its own place: complete users as sent, incomplete ones from one re-read of just them, missing ids null', async () => {
    const select = ['id', 'department'] as const;
    const lookups = [1, 2, 3, 4, 5].map((n) => ({ id: id(n) }));
    // Graph's order, not the lookups'; 3 is not in the tenant; 2 and 5 lack `department`; 4's is a null.
    const body = {
      value: [{ id: id(5).toUpperCase() }, { id: id(4), department: null }, { id: id(2) }, { id: id(1), department: 'Sales' }],
    };
    const rereads: Array<string[]> = [];
    const failure = new Error('re-read of 5 failed');
    const answers = await answerGetByIds(
      body,
      [...select],
      lookups,
      (l) => l.id,
      async (again) => {
        rereads.push(again.map((l) => l.id));
        return again.map((l): GraphUser | Error => (l.id === id(2) ? ({ id: id(2), department: 'Legal' } as GraphUser) : failure));
      },
    );
    expect(rereads).toEqual([[id(2), id(5)]]);
    expect(answers).toEqual([{ id: id(1), department: 'Sales' }, { id: id(2), department: 'Legal' }, null, { id: id(4), department: null }, failure]);
  });

  it('sends no re-read when every user is complete', async () => {
    let rereads = 0;
    const answers = await answerGetByIds(
      { value: [{ id: id(1), department: 'Sales' }] },
      ['id', 'department'],
      [{ id: id(1) }, { id: id(2) }],
      (l) => l.id,
      async () => {
        rereads += 1;
        return [];
      },
    );
    expect(rereads).toBe(0);
    expect(answers).toEqual([{ id: id(1), department: 'Sales' }, null]);
  });

  it('matches 1,000 lookups, half of them re-read, each to its own user', async () => {
    const lookups = Array.from({ length: 1000 }, (_, n) => ({ id: id(n) }));
    const body = { value: lookups.map((l, n) => (n % 2 === 0 ? { id: l.id, department: `d${n}` } : { id: l.id })).reverse() };
    const answers = await answerGetByIds(
      body,
      ['id', 'department'],
      lookups,
      (l) => l.id,
      async (again) => again.map((l) => ({ id: l.id, department: `reread ${l.id}` }) as GraphUser),
    );
    answers.forEach((answer, n) => expect(answer).toEqual({ id: id(n), department: n % 2 === 0 ? `d${n}` : `reread ${id(n)}` }));
  });
});
