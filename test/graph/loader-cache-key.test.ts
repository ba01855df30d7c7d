import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { userLookupCacheKey } from '../../src/graph/loaders.js';

/** The canonical form the cache key promises: the set's members sorted and joined. */
const reference = (values: readonly string[] | undefined) => (values ? [...new Set(values)].sort().join(',') : '-');

const property = fc.constantFrom('id', 'displayName', 'mail', 'jobTitle', 'givenName', 'surname', 'zeta', 'Abc', 'i', 'ida');

describe('userLookupCacheKey', () => {
  it('equals the sorted set join for any select and expandManager, in any order and with repeats', () => {
    fc.assert(
      fc.property(fc.array(property, { maxLength: 8 }), fc.option(fc.array(property, { maxLength: 6 }), { nil: undefined }), (select, expandManager) => {
        const key = userLookupCacheKey({ key: 'Adele@Contoso.com', select, ...(expandManager ? { expandManager } : {}) });
        expect(key).toBe(`adele@contoso.com|${reference(select)}|${reference(expandManager)}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the id-first plan order and the sorted order of the same set the same key', () => {
    const planOrder = userLookupCacheKey({ key: 'u1', select: ['id', 'displayName', 'jobTitle', 'mail'] });
    const sorted = userLookupCacheKey({ key: 'u1', select: ['displayName', 'id', 'jobTitle', 'mail'] });
    const shuffled = userLookupCacheKey({ key: 'U1', select: ['mail', 'id', 'jobTitle', 'displayName', 'mail'] });
    expect(planOrder).toBe('u1|displayName,id,jobTitle,mail|-');
    expect(sorted).toBe(planOrder);
    expect(shuffled).toBe(planOrder);
    expect(userLookupCacheKey({ key: 'u1', select: ['id'] })).toBe('u1|id|-');
    expect(userLookupCacheKey({ key: 'u1', select: ['id', 'mail', 'zeta'] })).toBe('u1|id,mail,zeta|-');
  });
});
