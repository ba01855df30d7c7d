import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium: the tests drive it with playwright-core, which downloads no browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether `what` can run in a real browser here. Without chromium a test file is skipped with the
 * reason printed, except under CI=true, where a missing browser fails the run instead of quietly
 * leaving the browser tests out.
 */
export function chromiumAvailable(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: CI must run ${what}`);
  console.warn(`skipping ${what}: ${CHROMIUM} is not installed`);
  return false;
}

/**
 * Headless chromium, with nothing of its own going to the network (no updates, sync or
 * background requests: the machine has no internet). `backForwardCache`: Playwright's default
 * arguments turn the back-forward cache off; a person's browser has it on.
 */
export function launchChromium(options: { backForwardCache?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    ...(options.backForwardCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** The playground's GraphiQL has rendered its query editor. */
export async function playgroundReady(page: Page): Promise<void> {
  await page.waitForSelector('.graphiql-container', { timeout: 20_000 });
  await page.locator('.graphiql-query-editor pre.CodeMirror-line').first().waitFor({ timeout: 20_000 });
}

/** Replaces the text of a playground editor (`.graphiql-query-editor`, the visible tool pane...) as a person types it. */
export async function typeInEditor(page: Page, editor: string, text: string): Promise<void> {
  await page.locator(`${editor} .CodeMirror-code`).first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}
