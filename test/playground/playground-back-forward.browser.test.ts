import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { hashApiKey } from '../../src/config.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { chromiumAvailable, launchChromium, playgroundReady, typeInEditor } from '../support/chromium.js';

/**
 * The playground and the browser's back-forward cache (docs/security.md#secrets-never-leave): a
 * page left for another keeps living in memory, and the Back button shows it again as it was. The
 * Headers pane held the API key and the result pane a Temporary Access Pass that is shown only
 * once, so whoever next used that browser pressed Back and read both. Chromium is started with its
 * back-forward cache on (Playwright turns it off by default), as every browser a person uses has it.
 */
const available = chromiumAvailable('the playground back-forward cache test');

const API_KEY = 'back-forward-key-0123456789';

describe.skipIf(!available)('playground and the back-forward cache', () => {
  let emulator: TestEmulator;
  let gw: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 10 });
    gw = await startTestGateway({
      emulator,
      env: {
        NODE_ENV: 'production',
        INTROSPECTION: '',
        PLAYGROUND: 'true',
        CALLER_AUTH: 'api-key',
        API_KEYS: `helpdesk:${hashApiKey(API_KEY)}:Users.Read+Users.ManageAuthMethods`,
      },
    });
    browser = await launchChromium({ backForwardCache: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await emulator?.close();
  });

  it('Back after leaving the playground shows neither the typed API key nor a Temporary Access Pass', async () => {
    // Not an administrator: a pass for one needs Users.ManageAdmins too (docs/security.md#administrators-as-targets).
    const user = [...emulator.tenant.users.values()].find(
      (u) => u.accountEnabled && u._directoryRoles.length === 0 && !u.authMethods.some((m) => m.type === 'temporaryAccessPass'),
    )!;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${gw.url}/graphql`, { waitUntil: 'load' });
    await playgroundReady(page);
    await page.locator('.graphiql-editor-tools button[data-name="headers"]').click();
    await typeInEditor(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden)', JSON.stringify({ 'x-api-key': API_KEY }));
    await typeInEditor(
      page,
      '.graphiql-query-editor',
      `mutation { createTemporaryAccessPass(input: {user: "${user.id}"}) { temporaryAccessPass { temporaryAccessPass } } }`,
    );
    // Past GraphiQL's debounced reading of the edited document (its operation name).
    await page.waitForTimeout(800);
    await page.locator('.graphiql-execute-button').click();
    await page.locator('.result-window', { hasText: '"temporaryAccessPass": "' }).waitFor({ timeout: 20_000 });
    const pass = /"temporaryAccessPass": "([^"]+)"/.exec((await page.locator('.result-window').textContent()) ?? '')![1]!;
    expect(pass.length).toBeGreaterThan(4);
    expect(await page.locator('body').textContent()).toContain(API_KEY);

    // Leave for another page, then press Back.
    await page.goto(`${gw.url}/healthz`, { waitUntil: 'load' });
    // A page restored from the cache fires no `load`: wait for the navigation only.
    await page.goBack({ waitUntil: 'commit' });
    await playgroundReady(page);
    await page.waitForTimeout(500);
    const shown = (await page.locator('body').textContent()) ?? '';
    expect(shown.includes(API_KEY), 'the typed API key is shown again').toBe(false);
    expect(shown.includes(pass), 'the Temporary Access Pass is shown again').toBe(false);
    // The page started again, from the examples.
    const query = (await page.locator('.graphiql-query-editor').textContent()) ?? '';
    expect(query).toContain('DirectoryPage');
    expect(query).not.toContain('createTemporaryAccessPass');
    await context.close();
  }, 90_000);
});
