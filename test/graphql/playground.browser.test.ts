import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * The playground in a real browser: headless Debian Chromium loads /graphql from the gateway,
 * with every request outside the gateway's origin blocked (proving it works offline), runs the
 * preloaded "Directory page" example and finds users in the result.
 */
const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: CI must run the playground browser test`);
  console.warn(`skipping the playground browser test: ${CHROMIUM} is not installed`);
}

describe.skipIf(!available)('playground in a real browser', () => {
  let gw: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    gw = await startTestGateway();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('loads offline, runs the directory example and shows users', async () => {
    const page = await browser.newPage();
    const foreign: string[] = [];
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(gw.url) || url.startsWith('data:')) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    await page.goto(`${gw.url}/graphql`, { waitUntil: 'load' });
    await page.waitForSelector('.graphiql-container', { timeout: 20_000 });
    // The example's default headers hold a placeholder bearer token; CALLER_AUTH=none ignores it.
    const run = page.locator('.graphiql-execute-button');
    await run.click();
    // A locator wait, not waitForFunction: the page's CSP (no unsafe-eval) would refuse evaluated strings.
    await page.locator('.result-window', { hasText: 'displayName' }).waitFor({ timeout: 20_000 });
    const result = (await page.locator('.result-window').textContent()) ?? '';
    const someUser = [...gw.emulator.tenant.users.values()].filter((u) => u.accountEnabled).sort((a, b) => a.displayName.localeCompare(b.displayName))[0]!;
    expect(result).toContain('"users"');
    expect(result).toContain(someUser.displayName);
    expect(foreign).toEqual([]);
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused/i.test(e))).toEqual([]);
    await page.close();
  }, 60_000);
});
