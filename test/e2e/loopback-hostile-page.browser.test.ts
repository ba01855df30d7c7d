import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { chromiumAvailable, launchChromium } from '../support/chromium.js';

/**
 * CALLER_AUTH=none in production (the one mode whose credential is ambient: "the request came over
 * loopback"), attacked by a hostile page in a real browser on the same machine, cross-site
 * (`localhost:<other port>`) and same-site (`127.0.0.1:<other port>`): every way a page can send a
 * request without the gateway's consent (a no-cors fetch with a form content type, sendBeacon, a form
 * POST, a form GET of a mutation, an image, a script, a preflighted JSON fetch, a sandboxed iframe's
 * `Origin: null`) reaches Microsoft Graph not once, changes nothing, and gives the page nothing to
 * read (docs/security.md#caller-authentication-defaults).
 */
const available = chromiumAvailable('the hostile page test');

/** The page's script: every attack, then `done` with what it could read (an opaque answer reads as nothing). */
function hostilePage(gateway: string, victim: string): string {
  const mutation = `mutation { disableAccount(input: { user: "${victim}" }) { user { id } } }`;
  const body = JSON.stringify({ query: mutation });
  const read = `{ users(first: 1) { nodes { id displayName } } }`;
  const script = `
    const gw = ${JSON.stringify(gateway)};
    const body = ${JSON.stringify(body)};
    const readBody = ${JSON.stringify(JSON.stringify({ query: read }))};
    const readable = [];
    const tryRead = (p) => p.then((r) => r.text()).then((t) => { if (t) readable.push(t); }, () => {});
    const loaded = (el) => new Promise((resolve) => { el.onload = el.onerror = () => resolve(); setTimeout(resolve, 5000); });
    function form(method, action, fields, enctype) {
      const frame = document.createElement('iframe');
      frame.name = 'f' + Math.random().toString(36).slice(2);
      document.body.appendChild(frame);
      const f = document.createElement('form');
      f.method = method; f.action = action; f.target = frame.name;
      if (enctype) f.enctype = enctype;
      for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement('input'); input.name = name; input.value = value; f.appendChild(input);
      }
      document.body.appendChild(f);
      const done = loaded(frame);
      f.submit();
      return done;
    }
    (async () => {
      const attempts = [
        fetch(gw + '/graphql', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }),
        fetch(gw + '/graphql', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }),
        fetch(gw + '/graphql', { method: 'POST', mode: 'no-cors', body: new Blob([body]) }),
        tryRead(fetch(gw + '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: readBody })),
        tryRead(fetch(gw + '/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' }, body })),
        tryRead(fetch(gw + '/graphql?query=' + encodeURIComponent(${JSON.stringify(read)}), { headers: { 'apollo-require-preflight': 'true' } })),
        Promise.resolve(navigator.sendBeacon(gw + '/graphql', new Blob([body], { type: 'text/plain' }))),
        form('POST', gw + '/graphql', { [body.slice(0, -2) + ', "x": "']: '"}' }, 'text/plain'),
        form('GET', gw + '/graphql', { query: ${JSON.stringify(mutation)} }),
        form('POST', gw + '/auth/login-link', {}),
      ];
      const img = new Image(); img.src = gw + '/graphql?query=' + encodeURIComponent(${JSON.stringify(mutation)}); attempts.push(loaded(img));
      const s = document.createElement('script'); s.src = gw + '/graphql?query=' + encodeURIComponent(${JSON.stringify(read)}); document.body.appendChild(s); attempts.push(loaded(s));
      // An opaque origin (Origin: null), as a sandboxed iframe of any site has.
      const sandboxed = document.createElement('iframe');
      sandboxed.sandbox = 'allow-scripts';
      sandboxed.srcdoc = '<script>fetch(' + JSON.stringify(gw + '/graphql') + ', { method: "POST", headers: { "content-type": "application/json" }, body: ' + JSON.stringify(readBody) + ' }).then((r) => r.text()).then((t) => parent.postMessage(t, "*"), () => parent.postMessage("", "*"));<\\/script>';
      attempts.push(new Promise((resolve) => { addEventListener('message', (e) => { if (e.data) readable.push(String(e.data)); resolve(); }); setTimeout(resolve, 5000); }));
      document.body.appendChild(sandboxed);
      await Promise.allSettled(attempts);
      document.getElementById('out').textContent = JSON.stringify({ done: true, readable });
    })();
  `;
  return `<!doctype html><html><body><pre id="out">running</pre><script>${script}</script></body></html>`;
}

describe.skipIf(!available)('CALLER_AUTH=none against a hostile page in a real browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let hostile: Server;
  let page = '';

  beforeAll(async () => {
    gw = await startTestGateway({ env: { NODE_ENV: 'production', SANDBOX: 'true', INTROSPECTION: 'false', CALLER_AUTH: 'none' } });
    hostile = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => hostile?.close(resolve));
    await gw?.close();
  });

  for (const site of ['localhost', '127.0.0.1'] as const) {
    it(`a page on ${site}:<another port> reaches no Graph API, changes nothing and reads nothing`, async () => {
      const victim = [...gw.emulator.tenant.users.values()].find((u) => u.accountEnabled && u._directoryRoles.length === 0)!;
      page = hostilePage(gw.url, victim.id);
      await gw.emulator.resetStats();
      const context = await browser.newContext();
      const tab = await context.newPage();
      await tab.goto(`http://${site}:${(hostile.address() as AddressInfo).port}/`, { waitUntil: 'load' });
      await tab.locator('#out', { hasText: '"done":true' }).waitFor({ timeout: 30_000 });
      const outcome = JSON.parse((await tab.locator('#out').textContent()) ?? '{}') as { readable: string[] };
      expect(outcome.readable).toEqual([]);
      expect(victim.accountEnabled).toBe(true);
      expect((await gw.emulator.stats()).totalRequests).toBe(0);
      await context.close();
    }, 60_000);
  }
});
