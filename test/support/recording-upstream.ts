import type { RequestInit } from 'undici';
import type { UpstreamHttp } from '../../src/http/upstream.js';

/**
 * Wraps the real upstream HTTP layer so that `onSend` sees every request before it leaves (Graph,
 * login, broker), for tests that check what the gateway asked for. Only `fetch` is wrapped and the
 * wrapper has no `request`, so the layer sends everything through `fetch` (`requestVia` falls back
 * to it, src/http/upstream.ts) and nothing goes by unseen.
 */
export function recordingUpstream(onSend: (url: string, init: RequestInit) => void): (real: UpstreamHttp) => UpstreamHttp {
  return (real) => ({
    dispatcher: real.dispatcher,
    fetch: (url, init) => {
      onSend(String(url), init ?? {});
      return real.fetch(url, init);
    },
    close: () => real.close(),
  });
}
