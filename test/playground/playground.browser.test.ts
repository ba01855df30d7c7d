import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hashApiKey } from '../../src/config.js';
import { appCallerToken } from '../identity/support.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { chromiumAvailable, launchChromium, playgroundReady } from '../support/chromium.js';

/**
 * The playground in a real browser (headless Debian Chromium), for every caller-authentication mode
 * and in production: every request outside the gateway's origin is blocked (it must work offline),
 * the Headers pane starts with what the mode needs (nothing, an API key header, a bearer token), the
 * Variables pane is open with each example's variables, a placeholder credential is never sent (no
 * 401 round trip), and with the real credential filled in the examples run. In production the
 * playground is off by default and the page says why and how to turn it on; turned on, it says that
 * introspection is off and asks for no schema. Nothing typed into the page (a password in the
 * variables, a key in the headers) is left in the origin's localStorage after a run, a reload or
 * in a new tab, and what earlier versions of the page left there is removed.
 */
const available = chromiumAvailable('the playground browser test');

const API_KEY = 'playground-key-0123456789';
const AUDIENCE = 'api://msgraph-user-gateway';

interface Visit {
  page: Page;
  /** POST bodies and statuses of every /graphql request the page made. */
  posts: Array<{ body: string; status: number; headers: Record<string, string> }>;
  foreign: string[];
  consoleErrors: string[];
  status: number;
}

describe.skipIf(!available)('playground in a real browser', () => {
  let emulator: TestEmulator;
  let browser: Browser;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 120 });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    for (const gw of gateways) await gw.close();
    await emulator?.close();
  });

  async function gateway(env: Record<string, string>): Promise<TestGateway> {
    const gw = await startTestGateway({ emulator, env });
    gateways.push(gw);
    return gw;
  }

  /** A fresh browser context (no saved GraphiQL tabs unless `localStorage` seeds some), offline except for the gateway. */
  async function visit(gw: TestGateway, path = '/graphql', localStorage: Array<{ name: string; value: string }> = []): Promise<Visit> {
    const context = await browser.newContext(localStorage.length > 0 ? { storageState: { cookies: [], origins: [{ origin: gw.url, localStorage }] } } : {});
    const page = await context.newPage();
    const result: Visit = { page, posts: [], foreign: [], consoleErrors: [], status: 0 };
    page.on('console', (message) => {
      if (message.type() === 'error') result.consoleErrors.push(message.text());
    });
    page.on('response', (response) => {
      const request = response.request();
      if (request.method() === 'POST' && request.url() === `${gw.url}/graphql`) {
        result.posts.push({ body: request.postData() ?? '', status: response.status(), headers: request.headers() });
      }
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(gw.url) || url.startsWith('data:')) return route.continue();
      result.foreign.push(url);
      return route.abort();
    });
    const response = await page.goto(`${gw.url}${path}`, { waitUntil: 'load' });
    result.status = response?.status() ?? 0;
    return result;
  }

  /** The text of the Variables or Headers pane, after making it the visible one. */
  async function pane(page: Page, name: 'variables' | 'headers'): Promise<string> {
    await page.locator(`.graphiql-editor-tools button[data-name="${name}"]`).click();
    const editor = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden)');
    await expect(editor.isVisible()).resolves.toBe(true);
    const lines = await editor.locator('pre.CodeMirror-line').allTextContents();
    return lines
      .join('\n')
      .replace(/\u200b/g, '')
      .trim();
  }

  async function setHeaders(page: Page, json: string): Promise<void> {
    await setPane(page, 'headers', json);
  }

  async function setPane(page: Page, name: 'variables' | 'headers', json: string): Promise<void> {
    await pane(page, name);
    await page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror-code').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(json);
  }

  async function runAndRead(page: Page, expected: string): Promise<string> {
    await page.locator('.graphiql-execute-button').click();
    // A locator wait, not waitForFunction: the page's CSP (no unsafe-eval) would refuse evaluated strings.
    await page.locator('.result-window', { hasText: expected }).waitFor({ timeout: 20_000 });
    return (await page.locator('.result-window').textContent()) ?? '';
  }

  function firstUserName(): string {
    return [...emulator.tenant.users.values()].filter((u) => u.accountEnabled).sort((a, b) => a.displayName.localeCompare(b.displayName))[0]!.displayName;
  }

  function expectCleanPage(v: Visit): void {
    expect(v.foreign).toEqual([]);
    expect(v.consoleErrors.filter((e) => /Content Security Policy|Refused/i.test(e))).toEqual([]);
  }

  it('CALLER_AUTH=none: no headers, the Variables pane open with each example’s variables, the examples run', async () => {
    const gw = await gateway({});
    const v = await visit(gw);
    await playgroundReady(v.page);
    expect(await v.page.locator('#playground-notice').count()).toBe(0);
    expect(await pane(v.page, 'variables')).toMatch(/"first": 25/);
    expect(await pane(v.page, 'headers')).toBe('');
    const result = await runAndRead(v.page, 'displayName');
    expect(result).toContain('"users"');
    expect(result).toContain(firstUserName());
    // The containment example's placeholder user is in plain sight before anyone runs it.
    await v.page.locator('.graphiql-tab', { hasText: 'ContainAccount' }).click();
    expect(await pane(v.page, 'variables')).toContain('<object id or userPrincipalName>');
    expect(v.posts.every((p) => p.status === 200)).toBe(true);
    expectCleanPage(v);
    await v.page.context().close();
  }, 60_000);

  it('CALLER_AUTH=api-key: an x-api-key header to fill in, nothing sent until it is, then the examples run', async () => {
    const gw = await gateway({ CALLER_AUTH: 'api-key', API_KEYS: `browser:${hashApiKey(API_KEY)}:Users.Read` });
    const v = await visit(gw);
    await playgroundReady(v.page);
    expect(await v.page.locator('#playground-notice').textContent()).toContain('needs an API key (CALLER_AUTH=api-key)');
    expect(JSON.parse(await pane(v.page, 'headers'))).toEqual({ 'x-api-key': '<your API key>' });
    expect(await pane(v.page, 'variables')).toMatch(/"first": 25/);
    // The schema fetch and a run with the placeholder are not sent: no 401 round trip.
    expect(await runAndRead(v.page, 'Not sent')).toContain('x-api-key');
    expect(v.posts).toEqual([]);

    await setHeaders(v.page, JSON.stringify({ 'x-api-key': API_KEY }));
    const result = await runAndRead(v.page, 'displayName');
    expect(result).toContain(firstUserName());
    expect(v.posts.length).toBeGreaterThan(0);
    expect(v.posts.map((p) => p.status)).not.toContain(401);
    expect(v.posts.at(-1)!.headers['x-api-key']).toBe(API_KEY);
    expectCleanPage(v);
    await v.page.context().close();
  }, 60_000);

  it('CALLER_AUTH=entra: a bearer header naming the audience, then the examples run with a real token', async () => {
    const gw = await gateway({ CALLER_AUTH: 'entra', API_AUDIENCE: AUDIENCE });
    const known = emulator.tenant.wellKnown;
    const token = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
    const v = await visit(gw);
    await playgroundReady(v.page);
    expect(await v.page.locator('#playground-notice').textContent()).toContain(AUDIENCE);
    expect(JSON.parse(await pane(v.page, 'headers'))).toEqual({ Authorization: `Bearer <access token for ${AUDIENCE}>` });
    expect(v.posts).toEqual([]);
    await setHeaders(v.page, JSON.stringify({ Authorization: `Bearer ${token}` }));
    expect(await runAndRead(v.page, 'displayName')).toContain(firstUserName());
    expect(v.posts.map((p) => p.status)).not.toContain(401);
    expectCleanPage(v);
    await v.page.context().close();
  }, 60_000);

  /** What the browser keeps in the gateway origin's localStorage (read without running script in the page). */
  async function savedStorage(page: Page, gw: TestGateway): Promise<Record<string, string>> {
    const state = await page.context().storageState();
    return Object.fromEntries((state.origins.find((o) => o.origin === gw.url)?.localStorage ?? []).map((e) => [e.name, e.value]));
  }

  it('keeps no typed secret in localStorage: not after a run, a reload or a new tab; removes what earlier versions left', async () => {
    const gw = await gateway({ CALLER_AUTH: 'api-key', API_KEYS: `browser:${hashApiKey(API_KEY)}:Users.Read` });
    const PASSWORD = 'Typed-Passw0rd-in-variables!';
    const OLD_PASSWORD = 'Earlier-Passw0rd-kept-by-graphiql';
    const OLD_KEY = 'earlier-api-key-kept-by-graphiql';
    // What the page of an earlier version left behind: every pane's text, the tabs and the history.
    const v = await visit(gw, '/graphql', [
      { name: 'graphiql:variables', value: JSON.stringify({ password: OLD_PASSWORD }) },
      { name: 'graphiql:headers', value: JSON.stringify({ 'x-api-key': OLD_KEY }) },
      { name: 'graphiql:query', value: '{ users { nodes { id } } }' },
      {
        name: 'graphiql:tabState',
        value: JSON.stringify({ tabs: [{ id: 'a', title: 't', query: '{ a }', variables: OLD_PASSWORD, headers: OLD_KEY }], activeTabIndex: 0 }),
      },
      { name: 'graphiql:queries', value: JSON.stringify({ queries: [{ query: '{ a }', variables: OLD_PASSWORD, headers: OLD_KEY }] }) },
      { name: 'graphiql:favorites', value: JSON.stringify({ favorites: [{ query: '{ a }', variables: OLD_PASSWORD }] }) },
      { name: 'graphiql:shouldPersistHeaders', value: 'true' },
      { name: 'graphiql:theme', value: 'dark' },
    ]);
    await playgroundReady(v.page);
    // The old entries are gone; the theme, which says nothing, is kept (and applied).
    expect(await savedStorage(v.page, gw)).toEqual({ 'graphiql:theme': 'dark' });
    expect(await v.page.locator('body.graphiql-dark').count()).toBe(1);
    // The examples start as on a first visit: the placeholder header, the first example's variables.
    expect(JSON.parse(await pane(v.page, 'headers'))).toEqual({ 'x-api-key': '<your API key>' });
    expect(await pane(v.page, 'variables')).toMatch(/"first": 25/);

    await setHeaders(v.page, JSON.stringify({ 'x-api-key': API_KEY }));
    await setPane(v.page, 'variables', JSON.stringify({ first: 25, password: PASSWORD }));
    expect(await runAndRead(v.page, 'displayName')).toContain(firstUserName());
    expect(v.posts.at(-1)!.body).toContain(PASSWORD); // it was typed, and sent
    // Past GraphiQL's debounced writes (500 ms).
    await v.page.waitForTimeout(800);
    const expectNothingTyped = async (page: Page) => {
      const saved = await savedStorage(page, gw);
      const text = JSON.stringify(saved);
      for (const secret of [PASSWORD, API_KEY, OLD_PASSWORD, OLD_KEY]) expect(text).not.toContain(secret);
      expect(
        Object.keys(saved).every((key) =>
          ['graphiql:theme', 'graphiql:visiblePlugin', 'graphiql:editorFlex', 'graphiql:secondaryEditorFlex', 'graphiql:docExplorerFlex'].includes(key),
        ),
      ).toBe(true);
    };
    await expectNothingTyped(v.page);

    // Reloaded: nothing typed comes back.
    await v.page.reload({ waitUntil: 'load' });
    await playgroundReady(v.page);
    await expectNothingTyped(v.page);
    expect(JSON.parse(await pane(v.page, 'headers'))).toEqual({ 'x-api-key': '<your API key>' });
    expect(await pane(v.page, 'variables')).not.toContain(PASSWORD);

    // The tab closed, another opened in the same browser profile.
    const context = v.page.context();
    await v.page.close();
    const again = await context.newPage();
    await again.goto(`${gw.url}/graphql`, { waitUntil: 'load' });
    await playgroundReady(again);
    await expectNothingTyped(again);
    expect(await pane(again, 'variables')).not.toContain(PASSWORD);
    expect(JSON.parse(await pane(again, 'headers'))).toEqual({ 'x-api-key': '<your API key>' });
    expectCleanPage(v);
    await context.close();
  }, 90_000);

  it('NODE_ENV=production: off by default, and the page says why and how to turn it on', async () => {
    const gw = await gateway({ NODE_ENV: 'production', INTROSPECTION: '' });
    const v = await visit(gw);
    expect(v.status).toBe(404);
    const text = (await v.page.locator('body').textContent()) ?? '';
    expect(text).toContain('The GraphQL playground is off');
    expect(text).toContain('PLAYGROUND=true');
    expect(text).toContain('INTROSPECTION=true');
    expect((await fetch(`${gw.url}/playground/assets/graphiql.min.js`)).status).toBe(404);
    // The API itself still answers.
    expect((await gw.graphql('{ users(first: 1) { nodes { id } } }')).errors).toBeUndefined();
    expectCleanPage(v);
    await v.page.context().close();
  }, 60_000);

  it('NODE_ENV=production with PLAYGROUND=true: says introspection is off, asks for no schema, and the examples run', async () => {
    const gw = await gateway({ NODE_ENV: 'production', INTROSPECTION: '', PLAYGROUND: 'true' });
    const v = await visit(gw);
    expect(v.status).toBe(200);
    await playgroundReady(v.page);
    expect(await v.page.locator('#playground-notice').textContent()).toContain('INTROSPECTION=true');
    expect(await runAndRead(v.page, 'displayName')).toContain(firstUserName());
    expect(v.posts.length).toBeGreaterThan(0);
    expect(v.posts.some((p) => p.body.includes('__schema'))).toBe(false);
    expect(v.posts.every((p) => p.status === 200)).toBe(true);
    expectCleanPage(v);
    await v.page.context().close();
  }, 60_000);
});
