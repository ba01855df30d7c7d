import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeQuery } from '../../src/graph/paths.js';

/** The documented encoding: percent-encode, then leave `,` `$` `:` `=` `;` `@` readable. */
function reference(query: Record<string, string | undefined>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const encoded = encodeURIComponent(value)
      .replace(/%2C/g, ',')
      .replace(/%24/g, '$')
      .replace(/%3A/g, ':')
      .replace(/%3D/g, '=')
      .replace(/%3B/g, ';')
      .replace(/%40/g, '@');
    parts.push(`${key}=${encoded}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

const odataText = fc.string({ unit: fc.constantFrom(...'aZ09-_.!~*\'(),$:=;@ &#+%"?/é\u2028'.split('')), maxLength: 24 });

describe('encodeQuery', () => {
  it('encodes every value as the documented percent-encoding, with or without characters to encode', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('$select', '$expand', '$filter', '$top'), fc.option(odataText, { nil: undefined })), (query) => {
        expect(encodeQuery(query)).toBe(reference(query));
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves a $select list and a manager expansion as they are, and encodes what would change the query', () => {
    expect(encodeQuery({ $select: 'id,displayName,mail', $expand: 'manager($select=id,displayName)', $top: '5' })).toBe(
      '?$select=id,displayName,mail&$expand=manager($select=id,displayName)&$top=5',
    );
    expect(encodeQuery({ $filter: "startswith(displayName,'A&B')" })).toBe("?$filter=startswith(displayName,'A%26B')");
  });
});
