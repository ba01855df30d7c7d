import type { ServerResponse } from 'node:http';

/**
 * Writing an answer to a caller that may not read it. Node sets no deadline on writing a response:
 * a client that stops reading its socket (its TCP window full) keeps the response, and what the
 * gateway reserved for it (src/graphql/budget/answers-in-flight.ts), for as long as it keeps the
 * connection open (docs/security.md#answers-nobody-reads).
 *
 * The rule is a minimum average rate: the whole answer must be taken by the socket within
 * `graceMs` plus its size at `minBytesPerSecond`; past that the connection is destroyed. A caller on a
 * slow network that keeps reading gets its whole answer (a fixed deadline would have to be long enough
 * for the largest answer at the slowest rate, and would hold every small stalled answer that long),
 * and a caller that reads a little now and then, to look alive, lets go at the same time as one that
 * reads nothing.
 *
 * Not a stall rule ("nothing taken for N seconds"): the kernel wakes a blocked writer only once
 * about a third of the socket's send buffer (up to 4 MB on Linux) is free again, so a caller reading
 * 256 KiB/s looked stalled for seconds at a time (measured on loopback). Nor Node's own timeouts:
 * `requestTimeout` and `headersTimeout` end once the request is received, and the socket inactivity
 * timeout (`server.timeout`, `res.setTimeout`) sees a write as activity only when it completes, which
 * has the same blind spots. The answer is written in slices, each after the socket took the previous
 * ones, so what was taken is known for the log, and no more than a slice waits in the process.
 */
export interface AnswerWriteRule {
  /** The time any answer has on top of its size at the minimum rate (ANSWER_WRITE_GRACE_MS). */
  graceMs: number;
  /** The slowest average rate an answer may be written at (ANSWER_MIN_BYTES_PER_SECOND). */
  minBytesPerSecond: number;
}

export interface AnswerCut {
  /** The answer's size and what the socket had taken of it, in bytes. */
  answerBytes: number;
  writtenBytes: number;
  /** The time the answer had, and the time it took until it was cut. */
  deadlineMs: number;
  elapsedMs: number;
}

/** ANSWER_WRITE_GRACE_MS's default: time for the connection to start moving, whatever the answer's size. */
export const DEFAULT_ANSWER_WRITE_GRACE_MS = 10_000;

/**
 * ANSWER_MIN_BYTES_PER_SECOND's default: 64 KiB/s (512 kbit/s, a poor mobile link). The largest
 * answers (~11 MB) then have about three minutes, a page of 100 users (~50 KB) just over 10 s.
 */
export const DEFAULT_ANSWER_MIN_BYTES_PER_SECOND = 64 * 1024;

/** Slices of 64 Ki characters (64 KiB to 256 KiB of UTF-8). */
const SLICE_CHARS = 64 * 1024;

/**
 * Writes `text` as the response body (Content-Length set) under `rule`; past it the connection is
 * destroyed (its 'close' gives back what the operation holds) and `onCut` is called once.
 * Resolves when the answer is written or the connection is gone.
 */
export async function writeAnswer(res: ServerResponse, text: string, rule: AnswerWriteRule, onCut: (cut: AnswerCut) => void): Promise<void> {
  const answerBytes = Buffer.byteLength(text, 'utf8');
  res.setHeader('content-length', answerBytes);
  const started = Date.now();
  const deadlineMs = rule.graceMs + Math.ceil((answerBytes * 1000) / rule.minBytesPerSecond);
  let writtenBytes = 0;
  const deadline = setTimeout(() => {
    if (res.writableFinished || res.destroyed) return;
    res.destroy();
    onCut({ answerBytes, writtenBytes, deadlineMs, elapsedMs: Date.now() - started });
  }, deadlineMs);
  const done = () => clearTimeout(deadline);
  res.once('close', done);
  res.once('finish', done);
  let offset = 0;
  while (offset < text.length && !res.destroyed) {
    let end = Math.min(text.length, offset + SLICE_CHARS);
    // Never between the two halves of a surrogate pair: each slice is encoded to UTF-8 on its own.
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end += 1;
    const slice = text.slice(offset, end);
    offset = end;
    const sliceBytes = Buffer.byteLength(slice, 'utf8');
    const taken = (error?: Error | null) => {
      if (!error) writtenBytes += sliceBytes;
    };
    // The last slice ends the response: most answers are one slice, written with their headers in
    // one call, as `res.end(text)` did.
    if (offset >= text.length) {
      res.end(slice, taken);
      return;
    }
    const more = res.write(slice, taken);
    if (!more && !(await drained(res))) return;
  }
  if (!res.destroyed) res.end();
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** True once the response can take more, false if the connection closed first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (value: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(value);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
