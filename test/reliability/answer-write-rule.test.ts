import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logRecords, startProductionGateway, type GatewayProcess } from '../support/gateway-process.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * Answers nobody reads (docs/security.md#answers-nobody-reads, src/http/answer-writer.ts), over raw
 * sockets against the production build with the image's heap cap (`--max-old-space-size=128`).
 *
 * Before: an answer was handed to Node in one `res.end()` and Node sets no deadline on writing it. Two
 * requests of 50 aliases of `users(first: 999) { edges { cursor } }` (~11 MB each) from one key, on
 * sockets that never read, held that key's share of the answers in flight for as long as the sockets
 * stayed open (20 s and more; the third such request was refused 429 CALLER_ANSWERS_IN_FLIGHT all that
 * time) while the process grew to 232 MB. Now an answer must be written within ANSWER_WRITE_GRACE_MS
 * plus its size at ANSWER_MIN_BYTES_PER_SECOND, or its connection is closed.
 *
 * This gateway runs with 3 s and 1 MiB/s (the defaults, 10 s and 64 KiB/s, would make the test
 * minutes long): an 11 MB answer then has ~13.6 s.
 */
const GRACE_MS = 3_000;
const MIN_RATE = 1024 * 1024;
const HOLDER = 'holder-key-0123456789abcdef';
const OTHER = 'other-key-0123456789abcdef';
const BIG = `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: users(first: 999) { edges { cursor } }`).join(' ')} }`;

describe('answers nobody reads (production build, 128 MB heap)', () => {
  let gw: GatewayProcess;
  let port: number;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-write-rule-'));

  beforeAll(async () => {
    gw = await startProductionGateway({
      dataDir,
      nodeArgs: ['--max-old-space-size=128'],
      env: {
        ...apiKeyCallers({ holder: { key: HOLDER, permissions: ['Users.Read'] }, other: { key: OTHER, permissions: ['Users.Read'] } }),
        LOG_LEVEL: 'warn',
        ANSWER_WRITE_GRACE_MS: String(GRACE_MS),
        ANSWER_MIN_BYTES_PER_SECOND: String(MIN_RATE),
      },
    });
    port = Number(new URL(gw.url).port);
  }, 120_000);

  afterAll(() => {
    gw?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = async (key: string, query: string) => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ query }),
    });
    const text = await res.text();
    const errors = res.status === 200 ? undefined : (JSON.parse(text) as { errors: Array<{ extensions: Record<string, unknown> }> }).errors;
    return { status: res.status, bytes: text.length, extensions: errors?.[0]?.extensions };
  };
  const cuts = () => logRecords(gw.output()).filter((r) => typeof r['msg'] === 'string' && r['msg'].startsWith('answer cut'));

  /**
   * Sends BIG on a raw socket and reads what comes back at `bytesPerSecond` (0: never reads).
   * Resolves when the connection closes, with what was received and when.
   */
  function rawRequest(key: string, bytesPerSecond: number) {
    const body = JSON.stringify({ query: BIG });
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\nx-api-key: ${key}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const chunks: Buffer[] = [];
    let received = 0;
    let firstByteAt = 0;
    if (bytesPerSecond === 0) socket.pause();
    else
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        firstByteAt ||= Date.now();
        received += chunk.length;
        // A reader of `bytesPerSecond`: ahead of it, it stops reading until the rate has caught up.
        const aheadMs = (received * 1000) / bytesPerSecond - (Date.now() - firstByteAt);
        if (aheadMs > 0) {
          socket.pause();
          setTimeout(() => socket.resume(), aheadMs);
        }
      });
    const closed = new Promise<{ at: number; text: string }>((resolve) =>
      socket.on('close', () => resolve({ at: Date.now(), text: Buffer.concat(chunks).toString('utf8') })),
    );
    return { socket, closed, started: Date.now() };
  }

  const contentLengthOf = (text: string) => Number(/content-length: (\d+)/i.exec(text)?.[1]);
  const bodyOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);

  it('two readers that never read hold one key’s share only until their deadline; the others are served meanwhile; each cut is logged once', async () => {
    const stalled = [rawRequest(HOLDER, 0), rawRequest(HOLDER, 0)];
    // Both answers are being written (and not read): the holder's share is spent. (A moment first, so
    // that the two reserve before the first request below, which would otherwise take their place.)
    await new Promise((r) => setTimeout(r, 1_000));
    const deadline = Date.now() + 30_000;
    let refusal = await post(HOLDER, BIG);
    while (refusal.status === 200 && Date.now() < deadline) refusal = await post(HOLDER, BIG);
    expect(refusal.status).toBe(429);
    expect(refusal.extensions).toMatchObject({ code: 'THROTTLED', reason: 'CALLER_ANSWERS_IN_FLIGHT' });
    // Another caller is served meanwhile, a large answer too.
    expect((await post(OTHER, '{ users(first: 5) { nodes { id } } }')).status).toBe(200);
    const other = await post(OTHER, BIG);
    expect(other.status).toBe(200);
    expect(other.bytes).toBeGreaterThan(5_000_000);

    // Each answer is cut at its deadline (the second may have started later: the operations share two cores).
    const cutBy = Date.now() + 60_000;
    while (cuts().filter((r) => (r['caller'] as { keyId?: string } | undefined)?.keyId === 'holder').length < 2 && Date.now() < cutBy)
      await new Promise((r) => setTimeout(r, 250));
    // The gateway closed both sockets: reading them now gives a truncated answer and the end.
    for (const { socket, closed } of stalled) {
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.resume();
      await closed;
      const text = Buffer.concat(chunks).toString('utf8');
      expect(text.startsWith('HTTP/1.1 200')).toBe(true);
      expect(Buffer.byteLength(bodyOf(text))).toBeLessThan(contentLengthOf(text));
    }
    // And the holder's share is usable again.
    expect((await post(HOLDER, BIG)).status).toBe(200);

    const holderCuts = cuts().filter((r) => (r['caller'] as { keyId?: string } | undefined)?.keyId === 'holder');
    expect(holderCuts).toHaveLength(2);
    for (const cut of holderCuts) {
      expect(cut['level']).toBe('warn');
      expect(cut['answerBytes']).toBeGreaterThan(5_000_000);
      expect(cut['writtenBytes']).toBeLessThan(cut['answerBytes']);
      // Cut at its deadline: 3 s plus ~11 MB at 1 MiB/s (the timer may fire late on a busy machine).
      expect(cut['deadlineMs']).toBe(GRACE_MS + Math.ceil((cut['answerBytes'] * 1000) / MIN_RATE));
      expect(cut['elapsedMs']).toBeGreaterThanOrEqual(cut['deadlineMs'] - 5);
      expect(cut['elapsedMs']).toBeLessThan(cut['deadlineMs'] + 3_000);
    }
    expect(gw.output()).not.toContain(HOLDER);
    expect(gw.child.exitCode).toBeNull();
  }, 120_000);

  it('a slow reader within the rule gets its whole answer, though it takes longer than ANSWER_WRITE_GRACE_MS', async () => {
    // ~1.5 MiB/s: an 11 MB answer takes ~7 s, over twice ANSWER_WRITE_GRACE_MS, under its ~13.6 s.
    const reader = rawRequest(OTHER, 1.5 * 1024 * 1024);
    const { at, text } = await Promise.race([
      reader.closed,
      // The gateway keeps the connection open after the answer (keep-alive): end it once the body is whole.
      new Promise<{ at: number; text: string }>((resolve) => {
        const chunks: Buffer[] = [];
        let received = 0;
        let whole = Infinity;
        reader.socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
          if (whole === Infinity) {
            const start = Buffer.concat(chunks);
            const head = start.indexOf('\r\n\r\n');
            if (head >= 0) whole = head + 4 + contentLengthOf(start.subarray(0, head).toString('latin1'));
          }
          if (received >= whole) {
            reader.socket.destroy();
            resolve({ at: Date.now(), text: Buffer.concat(chunks).toString('utf8') });
          }
        });
      }),
    ]);
    expect(text.startsWith('HTTP/1.1 200')).toBe(true);
    const body = bodyOf(text);
    expect(Buffer.byteLength(body)).toBe(contentLengthOf(text));
    const data = (JSON.parse(body) as { data: Record<string, { edges: unknown[] }> }).data;
    expect(Object.keys(data)).toHaveLength(50);
    expect(data['a49']!.edges).toHaveLength(999);
    expect(at - reader.started).toBeGreaterThan(GRACE_MS);
    expect(cuts().filter((r) => (r['caller'] as { keyId?: string } | undefined)?.keyId === 'other')).toHaveLength(0);
  }, 60_000);

  it('a reader that keeps reading, but slower than ANSWER_MIN_BYTES_PER_SECOND, is cut at its deadline', async () => {
    // 256 KiB/s: the 11 MB answer would take ~45 s; it has ~13.6 s.
    const reader = rawRequest(OTHER, 256 * 1024);
    const { text } = await reader.closed;
    expect(text.startsWith('HTTP/1.1 200')).toBe(true);
    expect(Buffer.byteLength(bodyOf(text))).toBeLessThan(contentLengthOf(text));
    const slow = cuts().filter((r) => (r['caller'] as { keyId?: string } | undefined)?.keyId === 'other');
    expect(slow).toHaveLength(1);
    expect(slow[0]!['writtenBytes']).toBeGreaterThan(1_000_000);
    expect(slow[0]!['elapsedMs']).toBeLessThan(slow[0]!['deadlineMs'] + 3_000);
    expect(gw.output()).not.toContain(OTHER);
  }, 60_000);
});
