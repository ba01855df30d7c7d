import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestVia, type UpstreamHttp } from '../../src/http/upstream.js';
import { startScriptedGraph, type ScriptedGraph, type SeenRequest } from '../support/scripted-graph.js';

/**
 * The fast request path of the upstream HTTP layer (undici.request on the shared dispatcher) and
 * its fetch fallback for wrappers that only intercept fetch: both give the same answer shape.
 */

let scripted: ScriptedGraph;
let origin: string;
let upstream: UpstreamHttp;
const seen: SeenRequest[] = [];

beforeAll(async () => {
  scripted = await startScriptedGraph((req, res) => {
    seen.push(req);
    if (req.url === '/hang') return; // never answers
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.writeHead(req.url === '/empty' ? 204 : 201, { 'Request-Id': 'rid-1', 'content-type': 'application/json' });
    res.end(req.url === '/empty' ? undefined : JSON.stringify({ echoed: req.body }));
  });
  ({ origin, upstream } = scripted);
});

afterAll(() => scripted.close());

describe('UpstreamHttp.request', () => {
  it('sends method, headers and body, and reads status, lower-case headers and the whole body', async () => {
    expect(upstream.request).toBeTypeOf('function');
    const answer = await requestVia(upstream, `${origin}/users?$select=id`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Custom': 'v' },
      body: '{"a":1}',
    });
    expect(answer.status).toBe(201);
    expect(answer.headers['request-id']).toBe('rid-1');
    expect(answer.headers['set-cookie']).toBe('a=1, b=2');
    expect(JSON.parse(answer.text)).toEqual({ echoed: '{"a":1}' });
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ method: 'POST', url: '/users?$select=id', body: '{"a":1}' });
    expect(last.headers['x-custom']).toBe('v');
    expect(last.headers['content-length']).toBe('7');
  });

  it('reads an empty answer as an empty text', async () => {
    const answer = await requestVia(upstream, `${origin}/empty`);
    expect(answer).toMatchObject({ status: 204, text: '' });
    expect(seen.at(-1)!.method).toBe('GET');
  });

  it('gives up when its signal aborts, with the signal reason', async () => {
    const started = performance.now();
    const outcome = await requestVia(upstream, `${origin}/hang`, { signal: AbortSignal.timeout(100) }).catch((error: unknown) => error);
    expect((outcome as { name?: string }).name).toBe('TimeoutError');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('falls back to fetch for a wrapper without request, so the wrapper still sees the call', async () => {
    const intercepted: string[] = [];
    const wrapper: UpstreamHttp = {
      dispatcher: upstream.dispatcher,
      fetch: (url, init) => {
        intercepted.push(String(url));
        return upstream.fetch(url, init);
      },
      close: () => Promise.resolve(),
    };
    const answer = await requestVia(wrapper, `${origin}/users/1`, { method: 'PATCH', body: 'x' });
    expect(intercepted).toEqual([`${origin}/users/1`]);
    expect(answer.status).toBe(201);
    expect(answer.headers['request-id']).toBe('rid-1');
    expect(JSON.parse(answer.text)).toEqual({ echoed: 'x' });
  });
});
