import { connect } from 'node:net';

/**
 * One loopback connection written byte for byte, for what a client library would not send
 * (pipelined, malformed or smuggled requests, stalled bodies), read until the server closes it.
 */
export interface RawExchangeOptions {
  /** End the exchange once the server has sent nothing for this long (default: wait for its close). */
  quietMs?: number;
  /** Fail, with what was received, when the connection is still open after this long (default 5 s; 30 s with `quietMs`). */
  timeoutMs?: number;
  /** A second write on the same connection, sent once `when` holds for what was received so far. */
  then?: { when: (received: string) => boolean; bytes: string | Buffer };
  /** How the received bytes are decoded (default latin1: one character per byte, so Content-Length frames the text). */
  encoding?: BufferEncoding;
}

/** Writes `bytes` on a new connection to 127.0.0.1:`port`; everything the server sent, decoded. */
export function rawExchange(port: number, bytes: string | Buffer, options: RawExchangeOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const received = () => Buffer.concat(chunks).toString(options.encoding ?? 'latin1');
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const rearmQuiet = () => {
      if (options.quietMs === undefined) return;
      clearTimeout(quiet);
      quiet = setTimeout(() => socket.destroy(), options.quietMs);
    };
    const deadline = setTimeout(
      () => {
        socket.destroy();
        reject(new Error(`the connection stayed open; received: ${received().slice(0, 300)}`));
      },
      options.timeoutMs ?? (options.quietMs === undefined ? 5_000 : 30_000),
    );
    let sentThen = false;
    rearmQuiet();
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      rearmQuiet();
      if (options.then && !sentThen && options.then.when(received())) {
        sentThen = true;
        socket.write(options.then.bytes);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(deadline);
      clearTimeout(quiet);
      resolve(received());
    });
    socket.write(bytes);
  });
}
