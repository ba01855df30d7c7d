import { describe, expect, it } from 'vitest';
import { safeGraphMessage } from '../../src/graph/errors.js';
import { printableUpstreamText } from '../../src/http/upstream-text.js';
import { tokenErrorToGatewayError } from '../../src/identity/token-errors.js';

/**
 * printableUpstreamText (src/http/upstream-text.ts): the one helper for text another service wrote
 * that goes into a log line or an error message (the hosted broker's refusals, Entra's error
 * description, Entra's token errors, Graph's messages through safeGraphMessage).
 */
describe('printableUpstreamText', () => {
  it('turns every run of controls, separators and bidi formatting characters into one space', () => {
    expect(printableUpstreamText('a\r\nb\u0000c\u001b[31md\u0085e\u2028f\u2029g')).toBe('a b c [31md e f g');
    expect(printableUpstreamText('pay \u202Egnp.exe\u202C now')).toBe('pay gnp.exe now');
    expect(printableUpstreamText('\u2066x\u2069 \u2067y\u2068 \u200Ez\u200F \u061Cw\u202A\u202B\u202D')).toBe('x y z w');
    expect(printableUpstreamText('  \u0007  ')).toBe('');
  });

  it('keeps other text as it is', () => {
    expect(printableUpstreamText('Ünïcödé — 日本語 👍 "quoted" <tag>')).toBe('Ünïcödé — 日本語 👍 "quoted" <tag>');
  });

  it('bounds the length in code points, never splitting a surrogate pair', () => {
    expect(printableUpstreamText('x'.repeat(400))).toBe(`${'x'.repeat(300)}…`);
    expect(printableUpstreamText('👍'.repeat(20), 5)).toBe(`${'👍'.repeat(5)}…`);
    expect(printableUpstreamText('👍'.repeat(5), 5)).toBe('👍'.repeat(5));
    expect(printableUpstreamText('abc', Infinity)).toBe('abc');
  });

  it('takes linear time on long runs of spaces and controls', () => {
    const started = Date.now();
    printableUpstreamText(`${' '.repeat(500_000)}\u0007${'\u202E'.repeat(500_000)}x${' \u0000'.repeat(200_000)}`, Infinity);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("is what Entra's token errors go through too", () => {
    const error = tokenErrorToGatewayError('client-credentials', {
      errorCode: 'invalid_client',
      errorMessage: 'AADSTS7000215: Invalid \u202Etneilc\u202C secret\u2028provided.',
    });
    expect(error.message).toContain('Invalid tneilc secret provided.');
    expect(error.message).not.toMatch(/[\u2028\u202a-\u202e]/);
  });

  it("is what Graph's messages go through too", () => {
    expect(safeGraphMessage('Invalid value\n\u202Especified\u202C.')).toBe('Invalid value specified .');
    expect(safeGraphMessage(undefined)).toBe('no reason given');
  });
});
