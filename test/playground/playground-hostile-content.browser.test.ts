import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hashApiKey } from '../../src/config.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { chromiumAvailable, launchChromium, playgroundReady, typeInEditor } from '../support/chromium.js';

/**
 * What an attacker controls that reaches the playground, in production with PLAYGROUND=true: the
 * page's URL (`?query=`, `variables`, `headers`, `operationName`: the playground reads none of them),
 * directory data (a user whose displayName is markup) and error messages that quote the caller's
 * values. All of it is shown as text: no element of the attacker's is created, and the page's CSP
 * (`script-src 'self'`, no inline handlers) would refuse its script anyway.
 */
const available = chromiumAvailable('the playground hostile content test');

const API_KEY = 'hostile-content-key-0123456789';
const MARKUP = 'Aaron<img id="injected-img" src="x" onerror="document.title=\'owned\'"><script id="injected-script">document.title="owned"</script>';

describe.skipIf(!available)('playground: hostile content is shown as text', () => {
  let emulator: TestEmulator;
  let gw: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 10 });
    // A directory user whose name is markup (anyone allowed to edit a profile can write one).
    [...emulator.tenant.users.values()].find((u) => u.accountEnabled)!.displayName = MARKUP;
    gw = await startTestGateway({
      emulator,
      env: { NODE_ENV: 'production', INTROSPECTION: '', PLAYGROUND: 'true', CALLER_AUTH: 'api-key', API_KEYS: `reader:${hashApiKey(API_KEY)}:Users.Read` },
    });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await emulator?.close();
  });

  async function expectNothingInjected(page: Page): Promise<void> {
    expect(await page.locator('#injected-img, #injected-script, img[src="x"]').count()).toBe(0);
    expect(await page.title()).toBe('msgraph-user-gateway playground');
  }

  it('reads nothing from its URL', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const hostile = encodeURIComponent(MARKUP);
    // With `query`, GET /graphql is an API request, never the page: JSON, refused before anything runs.
    const api = await page.goto(`${gw.url}/graphql?query=${hostile}`, { waitUntil: 'load' });
    expect(api!.headers()['content-type']).toMatch(/^application\/json/);
    expect(api!.status()).toBe(401);
    const params = `variables=${hostile}&headers=${hostile}&operationName=${hostile}`;
    for (const path of [`/graphql?${params}`, `/playground?query=${hostile}&${params}`]) {
      await page.goto(`${gw.url}${path}`, { waitUntil: 'load' });
      await playgroundReady(page);
      const query = (await page.locator('.graphiql-query-editor').textContent()) ?? '';
      expect(query).toContain('DirectoryPage');
      expect(query).not.toContain('Aaron');
      await expectNothingInjected(page);
    }
    await context.close();
  }, 60_000);

  it('shows markup in directory data and in error messages as text', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${gw.url}/graphql`, { waitUntil: 'load' });
    await playgroundReady(page);
    await page.locator('.graphiql-editor-tools button[data-name="headers"]').click();
    await typeInEditor(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden)', JSON.stringify({ 'x-api-key': API_KEY }));
    // The first example lists the directory, the markup user among them.
    await page.locator('.graphiql-execute-button').click();
    await page.locator('.result-window', { hasText: 'Aaron<img' }).waitFor({ timeout: 20_000 });
    await expectNothingInjected(page);

    // graphql-js quotes a value that does not coerce in its error message.
    await page.locator('.graphiql-editor-tools button[data-name="variables"]').click();
    await typeInEditor(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden)', JSON.stringify({ first: MARKUP }));
    await page.locator('.graphiql-execute-button').click();
    await page.locator('.result-window', { hasText: 'Int cannot represent' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('.result-window').textContent()).toContain('Aaron<img');
    await expectNothingInjected(page);
    expect(dialogs).toEqual([]);
    await context.close();
  }, 60_000);
});
