import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { logRecordsOf } from '../support/log-capture.js';

/**
 * A caller's mistake is one `info` line per operation, without a stack; only our own faults are
 * `error` with a stack. Before, every validation error of a request was logged at `error` with its
 * stack: a 2 KB request naming 400 unknown fields wrote about 139 KB of log. Production
 * configuration, log level info (as deployed).
 */
describe('log volume and level of errors', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      env: { NODE_ENV: 'production', SANDBOX: 'true', INTROSPECTION: 'false', LOG_LEVEL: 'info' },
      // Our own fault, on purpose: a resolver that throws a plain Error.
      deps: {
        extraResolvers: [
          {
            Query: {
              userChanges: () => {
                throw new Error('resolver bug: something internal');
              },
            },
          },
        ],
      },
    });
  }, 60_000);
  afterAll(() => gw.close());

  /** Log records written while `run` ran. */
  async function logged(run: () => Promise<unknown>): Promise<{ bytes: number; records: Array<Record<string, any>> }> {
    const before = gw.logLines.length;
    await run();
    await new Promise((r) => setTimeout(r, 20));
    const text = gw.logLines.slice(before).join('');
    return {
      bytes: Buffer.byteLength(text),
      records: logRecordsOf([text]),
    };
  }

  const mistakes: Array<[string, string, Record<string, unknown>?]> = [
    ['400 unknown fields', `{ users(first: 2) { nodes { ${Array.from({ length: 400 }, (_, i) => `f${i}`).join(' ')} } } }`],
    ['80 repeated directives', `{ __typename ${'@skip(if: false) '.repeat(80)}}`],
    ['a parse error', '{ users( '],
    ['a variable of the wrong type', 'query($n: Int) { users(first: $n) { nodes { id } } }', { n: 'x' }],
    ['too deep', `{ user(id: "x") { ${'manager { '.repeat(12)}id${' }'.repeat(12)} } }`],
    ['a bad argument', '{ user(id: "bad value with spaces") { id } }'],
  ];

  for (const [name, query, variables] of mistakes) {
    it(`${name}: one info line, no stack, a few hundred bytes`, async () => {
      const { bytes, records } = await logged(() => gw.graphql(query, variables));
      expect(records.filter((r) => r.level === 'error' || r.level === 'warn')).toEqual([]);
      expect(records.map((r) => r.msg)).toEqual(['graphql operation']);
      expect(records[0]!.level).toBe('info');
      expect(records[0]!.errorCodes.length).toBeGreaterThan(0);
      expect(JSON.stringify(records)).not.toContain('stack');
      expect(bytes).toBeLessThan(1024);
    });
  }

  it('the operation line names the codes and reasons of the mistake', async () => {
    const { records } = await logged(() => gw.graphql(mistakes[0]![1]));
    expect(records[0]).toMatchObject({ outcome: 'error', errorCodes: ['BAD_USER_INPUT'], errorReasons: ['GRAPHQL_VALIDATION_FAILED'] });
    const deep = await logged(() => gw.graphql(mistakes[4]![1]));
    expect(deep.records[0]).toMatchObject({ errorCodes: ['OPERATION_TOO_COMPLEX'], errorReasons: ['maxDepth'] });
  });

  it('requests refused before execution (CSRF prevention, no query) log nothing at error', async () => {
    const csrf = await logged(() => fetch(`${gw.url}/graphql?query=%7B__typename%7D`));
    expect(csrf.records.filter((r) => r.level === 'error')).toEqual([]);
    const empty = await logged(() => fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    expect(empty.records.filter((r) => r.level === 'error')).toEqual([]);
  });

  it('our own fault is logged at error, once, with its stack, and masked for the caller', async () => {
    let result: Awaited<ReturnType<TestGateway['graphql']>> | undefined;
    const { records } = await logged(async () => (result = await gw.graphql('{ userChanges { nextDeltaToken } }')));
    expect(result!.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(result!.errors?.[0]?.message).not.toContain('resolver bug');
    const errors = records.filter((r) => r.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.err.stack).toContain('resolver bug: something internal');
  });
});
