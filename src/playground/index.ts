import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PLAYGROUND_CLIENT_SCRIPT } from './client-script.js';
import type { CallerAuthMode } from '../config-types.js';
import { playgroundExamples, type ExampleOptions } from './examples.js';
import { BASELINE_SECURITY_HEADERS } from '../http/security-headers.js';

/**
 * The offline playground: GraphiQL 3's UMD build and React 18, read from node_modules once at
 * start and served from /playground/assets/ (no CDN, works air-gapped), plus a page that mounts it
 * with example operations.
 *
 * Each asset's URL carries a hash of its content (`graphiql.min.<hash>.js`) and is cached as
 * `immutable` for a year; the page, never stored, names the URLs of this build. An upgrade changes
 * the URL of every asset whose content changed, so a browser never runs an old script under a new
 * page. Before, the URLs had no version and were cached for a day: after an upgrade a browser could
 * pair the new page with yesterday's script. A name without its hash, or with another build's, is
 * 404 (docs/security.md#playground-assets).
 */
interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/** A year: the URL changes whenever the content does, so the browser never needs to ask again. */
const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * `graphiql.min.js` → `graphiql.min.<hash>.js` (the hash before the extension, so the type stays
 * readable), and the asset's ETag: both from one SHA-256 of the content, taken once at start.
 */
export function assetIdentity(name: string, body: Buffer): { hashedName: string; etag: string } {
  const digest = createHash('sha256').update(body).digest();
  const dot = name.lastIndexOf('.');
  return {
    hashedName: `${name.slice(0, dot)}.${digest.toString('hex').slice(0, 20)}${name.slice(dot)}`,
    etag: `"${digest.toString('base64url').slice(0, 27)}"`,
  };
}

const require = createRequire(import.meta.url);

const ASSET_SOURCES: Record<string, { pkg: string; file: string; contentType: string }> = {
  'react.production.min.js': { pkg: 'react', file: 'umd/react.production.min.js', contentType: 'text/javascript; charset=utf-8' },
  'react-dom.production.min.js': { pkg: 'react-dom', file: 'umd/react-dom.production.min.js', contentType: 'text/javascript; charset=utf-8' },
  'graphiql.min.js': { pkg: 'graphiql', file: 'graphiql.min.js', contentType: 'text/javascript; charset=utf-8' },
  'graphiql.min.css': { pkg: 'graphiql', file: 'graphiql.min.css', contentType: 'text/css; charset=utf-8' },
};

/** The installed package's directory (its "exports" map hides the UMD files from require.resolve). */
function packageDirectory(pkg: string): string {
  let dir = path.dirname(require.resolve(pkg));
  while (path.basename(dir) !== pkg && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** CSP of the playground page: everything from this origin; GraphiQL sets inline styles, so styles allow them. */
export const PLAYGROUND_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export interface Playground {
  /** Serves the page (GET /graphql from a browser): GraphiQL, or the page saying why it is off and how to turn it on. */
  servePage(res: ServerResponse): void;
  /** Serves /playground/assets/*; false when `name` is not an asset (or the playground is off). */
  serveAsset(req: IncomingMessage, res: ServerResponse, name: string): boolean;
}

/** How the gateway is configured, as far as the page needs to know it. */
export interface PlaygroundOptions extends ExampleOptions {
  /** PLAYGROUND: false serves the explanation page instead (default on). */
  enabled?: boolean;
  /** CALLER_AUTH: decides the headers the tabs start with and the sign-in hint. Default `none`. */
  callerAuth?: CallerAuthMode;
  /** With `entra`: the audience (API_AUDIENCE) a caller's token must be issued for, shown in the hint. */
  audience?: string;
  /** INTROSPECTION: when off the page loads no schema (it would be refused) and says why. Default on. */
  introspection?: boolean;
  endpoint?: string;
}

/** Placeholders are `<…>`: the page's fetcher refuses to send them (a request that can only be a 401). */
export const API_KEY_PLACEHOLDER = '<your API key>';

/** The Headers pane each tab starts with, for the configured caller authentication. */
export function defaultHeadersFor(mode: CallerAuthMode, audience?: string): string {
  switch (mode) {
    case 'none':
      return '';
    case 'api-key':
      return JSON.stringify({ 'x-api-key': API_KEY_PLACEHOLDER }, null, 2);
    case 'entra':
      return JSON.stringify({ Authorization: `Bearer <access token for ${audience ?? 'API_AUDIENCE'}>` }, null, 2);
    default: {
      const never: never = mode;
      throw new Error(`unknown caller authentication ${String(never)}`);
    }
  }
}

/** What the page tells a person before they run anything, one paragraph each. */
function noticesFor(options: PlaygroundOptions): string[] {
  const notices: string[] = [];
  const mode = options.callerAuth ?? 'none';
  const reload = 'then load the schema with Shift+Ctrl+R (or the refresh button of the docs pane)';
  if (mode === 'api-key')
    notices.push(`This gateway needs an API key (CALLER_AUTH=api-key): replace ${API_KEY_PLACEHOLDER} in the Headers pane with your key, ${reload}.`);
  if (mode === 'entra')
    notices.push(
      `This gateway needs an Entra ID access token (CALLER_AUTH=entra) issued for ${options.audience ?? 'API_AUDIENCE'}: put it after "Bearer" in the Headers pane, ${reload}.`,
    );
  if (options.introspection === false)
    notices.push(
      'Introspection is off (INTROSPECTION=false, the default with NODE_ENV=production), so there are no docs and no autocompletion here; the examples still run. Set INTROSPECTION=true to turn it on.',
    );
  return notices;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page GET /graphql serves when PLAYGROUND=false: why it is off and how to turn it on. */
const DISABLED_PAGE = Buffer.from(
  `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>msgraph-user-gateway: playground off</title></head>
<body>
<h1>The GraphQL playground is off</h1>
<p>PLAYGROUND is false on this gateway, which is the default with NODE_ENV=production: a production endpoint does not
hand an interactive console to every browser that reaches it, and with introspection also off (the production
default) the playground could show neither docs nor autocompletion.</p>
<p>The API itself works: send GraphQL to <code>POST /graphql</code> with your credentials.</p>
<p>To turn the playground on, set <code>PLAYGROUND=true</code> (and <code>INTROSPECTION=true</code> for docs and
autocompletion) and restart the gateway. See docs/operations.md.</p>
</body>
</html>
`,
  'utf8',
);

const PLAYGROUND_CSS = [
  'html, body { height: 100%; margin: 0; }',
  'body { display: flex; flex-direction: column; }',
  '#graphiql { flex: 1; min-height: 0; }',
  '#playground-notice { padding: 6px 12px; font: 14px/1.4 system-ui, sans-serif; background: #fff8e1; border-bottom: 1px solid #e0c36c; }',
  '#playground-notice p { margin: 2px 0; }',
  '',
].join('\n');

export function createPlayground(options: PlaygroundOptions = {}): Playground {
  if (options.enabled === false) {
    return {
      servePage(res) {
        res.writeHead(404, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': DISABLED_PAGE.length,
          'cache-control': 'no-cache',
          'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
          ...BASELINE_SECURITY_HEADERS,
        });
        res.end(DISABLED_PAGE);
      },
      serveAsset: () => false,
    };
  }
  /** Served by hashed name; `urls` maps each plain name to the URL the page uses. */
  const assets = new Map<string, Asset>();
  const urls = new Map<string, string>();
  const add = (name: string, body: Buffer, contentType: string) => {
    const { hashedName, etag } = assetIdentity(name, body);
    assets.set(hashedName, { body, contentType, etag });
    urls.set(name, `/playground/assets/${hashedName}`);
  };
  const url = (name: string): string => {
    const hashed = urls.get(name);
    if (!hashed) throw new Error(`the playground page names ${name}, which is not one of its assets`);
    return hashed;
  };
  for (const [name, source] of Object.entries(ASSET_SOURCES)) add(name, readFileSync(path.join(packageDirectory(source.pkg), source.file)), source.contentType);
  add('playground.js', Buffer.from(PLAYGROUND_CLIENT_SCRIPT, 'utf8'), 'text/javascript; charset=utf-8');
  add('playground.css', Buffer.from(PLAYGROUND_CSS, 'utf8'), 'text/css; charset=utf-8');

  const config = {
    endpoint: options.endpoint ?? '/graphql',
    defaultHeaders: defaultHeadersFor(options.callerAuth ?? 'none', options.audience),
    introspection: options.introspection !== false,
    examples: playgroundExamples(options),
  };
  // JSON inside <script type="application/json"> is data, not code; escaping `<` keeps it from closing the tag.
  const configJson = JSON.stringify(config).replace(/</g, '\\u003c');
  const notices = noticesFor(options);
  const noticeHtml = notices.length > 0 ? `<div id="playground-notice">${notices.map((n) => `<p>${escapeHtml(n)}</p>`).join('')}</div>\n` : '';
  const page = Buffer.from(
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>msgraph-user-gateway playground</title>
<link rel="stylesheet" href="${url('graphiql.min.css')}">
<link rel="stylesheet" href="${url('playground.css')}">
</head>
<body>
${noticeHtml}<div id="graphiql">Loading the playground…</div>
<script id="playground-config" type="application/json">${configJson}</script>
<script src="${url('react.production.min.js')}"></script>
<script src="${url('react-dom.production.min.js')}"></script>
<script src="${url('graphiql.min.js')}"></script>
<script src="${url('playground.js')}"></script>
</body>
</html>
`,
    'utf8',
  );

  return {
    servePage(res) {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': page.length,
        // no-store, although the page itself holds nothing: it keeps the page out of the browser's
        // back-forward cache, which kept a left playground alive in memory, so Back showed the typed
        // API key and a Temporary Access Pass again to whoever used the browser next
        // (docs/security.md#secrets-never-leave).
        'cache-control': 'no-store',
        'content-security-policy': PLAYGROUND_CSP,
        ...BASELINE_SECURITY_HEADERS,
      });
      res.end(page);
    },
    serveAsset(req, res, name) {
      const asset = assets.get(name);
      if (!asset) return false;
      const headers = {
        'cache-control': ASSET_CACHE_CONTROL,
        etag: asset.etag,
        'x-content-type-options': 'nosniff',
      };
      if (req.headers['if-none-match'] === asset.etag) {
        res.writeHead(304, headers);
        res.end();
        return true;
      }
      res.writeHead(200, { ...headers, 'content-type': asset.contentType, 'content-length': asset.body.length });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return true;
    },
  };
}
