import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetIdentity } from '../../src/playground/index.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * The playground's assets live under content-hashed URLs, cached `immutable` (src/playground/index.ts):
 * the page (never stored) names each asset by the hash of what that URL serves, so after an upgrade
 * a browser cannot pair a new page with an old script. Before, the page named
 * `/playground/assets/graphiql.min.js` and the like, cached `public, max-age=86400` for a day
 * whatever the version. A plain name, or a hash of another build, is 404.
 */
let emulator: TestEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 5 });
  gw = await startTestGateway({ emulator });
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

async function assetUrls(): Promise<string[]> {
  const page = await fetch(`${gw.url}/graphql`, { headers: { accept: 'text/html' } });
  expect(page.headers.get('cache-control')).toBe('no-store');
  return [...(await page.text()).matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
}

describe('playground assets', () => {
  it('the page names every asset by the hash of its content; each is cached for a year as immutable', async () => {
    const urls = await assetUrls();
    expect(urls.map((u) => u.replace(/\.[0-9a-f]{20}\./, '.<hash>.')).sort()).toEqual(
      [
        '/playground/assets/graphiql.min.<hash>.css',
        '/playground/assets/graphiql.min.<hash>.js',
        '/playground/assets/playground.<hash>.css',
        '/playground/assets/playground.<hash>.js',
        '/playground/assets/react-dom.production.min.<hash>.js',
        '/playground/assets/react.production.min.<hash>.js',
      ].sort(),
    );
    for (const url of urls) {
      const asset = await fetch(`${gw.url}${url}`);
      expect(asset.status, url).toBe(200);
      expect(asset.headers.get('cache-control'), url).toBe('public, max-age=31536000, immutable');
      const body = Buffer.from(await asset.arrayBuffer());
      // The URL is the content's: whatever changes the bytes changes the URL.
      const plain = url
        .split('/')
        .pop()!
        .replace(/\.[0-9a-f]{20}\./, '.');
      const identity = assetIdentity(plain, body);
      expect(identity.hashedName, url).toBe(url.split('/').pop());
      expect(asset.headers.get('etag'), url).toBe(identity.etag);
      expect(
        createHash('sha256')
          .update(body)
          .digest('hex')
          .startsWith(/\.([0-9a-f]{20})\./.exec(url)![1]!),
        url,
      ).toBe(true);
    }
  });

  it('revalidation and HEAD still work: If-None-Match answers 304, HEAD the headers alone', async () => {
    const [url] = (await assetUrls()).filter((u) => u.endsWith('.js'));
    const first = await fetch(`${gw.url}${url}`);
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    const again = await fetch(`${gw.url}${url}`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const head = await fetch(`${gw.url}${url}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(first.headers.get('content-length'));
  });

  it('a plain name (the old URLs) or another build’s hash is 404, never another version’s content', async () => {
    const script = (await assetUrls()).find((u) => u.includes('/playground.'))!;
    const otherBuild = script.replace(/\.([0-9a-f]{20})\./, (_m, hash: string) => `.${hash.replace(/^./, (c) => (c === '0' ? '1' : '0'))}.`);
    for (const url of ['/playground/assets/playground.js', '/playground/assets/graphiql.min.js', '/playground/assets/graphiql.min.css', otherBuild]) {
      const answer = await fetch(`${gw.url}${url}`);
      await answer.arrayBuffer();
      expect(answer.status, url).toBe(404);
      expect(answer.headers.get('cache-control'), url).toBe('no-store');
    }
  });
});
