import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Requests a connection may send ahead of their answers (HTTP/1.1 pipelining) beyond the one being
 * served. Browsers, curl, undici's default and the Prometheus scraper never pipeline; a client that
 * does keeps a handful in flight.
 */
export const MAX_WAITING_REQUESTS = 8;

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

interface ConnectionTurns {
  serving: boolean;
  waiting: Array<() => void>;
  /** Destroyed for sending too many: what the parser still hands over from its last read is dropped. */
  refused: boolean;
}

/**
 * Serves the requests of one connection one at a time, in order, and closes a connection that
 * sends more than `maxWaiting` requests ahead of their answers (docs/security.md#pipelined-requests).
 *
 * Why: Node's HTTP server hands every request it parses to the listener at once, however many one
 * connection pipelined, and holds each answer until the earlier ones are written; it stops reading
 * only once answers already wait, which an asynchronous route has not produced yet while the parser
 * reads on. One connection holding no credential that sent 100,000 `GET /readyz` in one write and
 * read nothing made the production build (128 MB heap) run out of memory within seconds; any
 * MAX_CONNECTIONS and MAX_CONNECTIONS_PER_ADDRESS bound counts connections, not the requests inside
 * them. RFC 9112 §9.3.2 lets a server process pipelined requests in order, and §9.6 close a
 * connection at any time.
 *
 * A waiting request is not looked at (no authentication, no body read) until the one before it is
 * answered; the answers go out in the order of the requests, as they must. Past the bound the
 * connection is destroyed: the requests it carried are not served, nor answered, and nothing is
 * logged (anyone can open a connection), only counted through `onRefused`.
 */
export function oneRequestAtATime(listener: RequestListener, options: { maxWaiting?: number; onRefused?: () => void } = {}): RequestListener {
  const maxWaiting = options.maxWaiting ?? MAX_WAITING_REQUESTS;
  const turns = new WeakMap<Socket, ConnectionTurns>();
  return (req, res) => {
    const socket = req.socket;
    let connection = turns.get(socket);
    if (!connection) {
      const created: ConnectionTurns = { serving: false, waiting: [], refused: false };
      turns.set(socket, created);
      // Requests still waiting when the connection goes are never served: nobody would read them.
      socket.once('close', () => (created.waiting.length = 0));
      connection = created;
    }
    const own = connection;
    if (own.refused || socket.destroyed) return;
    const serve = (): void => {
      own.serving = true;
      let ended = false;
      // 'close' follows 'finish' (the answer handed to the socket) and a connection that went away alike.
      res.once('close', () => {
        if (ended) return;
        ended = true;
        own.serving = false;
        // A connection that is gone (an answer cut, the caller away) has nobody to answer: its waiting
        // requests must not run an operation, nor reserve an answer that no 'close' would give back.
        if (socket.destroyed) own.waiting.length = 0;
        else own.waiting.shift()?.();
      });
      listener(req, res);
    };
    if (!own.serving) return serve();
    if (own.waiting.length >= maxWaiting) {
      own.waiting.length = 0;
      own.refused = true;
      options.onRefused?.();
      socket.destroy();
      return;
    }
    own.waiting.push(serve);
  };
}
