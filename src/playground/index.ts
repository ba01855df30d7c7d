import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PLAYGROUND_CLIENT_SCRIPT } from './client-script.js';
import { playgroundExamples, type ExampleOptions } from './examples.js';

/**
 * The offline playground: GraphiQL 3's UMD build and React 18, read from node_modules once at
 * start and served from /playground/assets/ (no CDN, works air-gapped), plus a page that mounts it
 * with example operations. Assets are immutable for the process lifetime, so they carry an ETag
 * and a long cache lifetime.
 */
interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
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
  /** Serves the page (GET /graphql from a browser). */
  servePage(res: ServerResponse): void;
  /** Serves /playground/assets/*; false when `name` is not an asset. */
  serveAsset(req: IncomingMessage, res: ServerResponse, name: string): boolean;
}

export function createPlayground(options: ExampleOptions & { endpoint?: string; defaultHeaders?: string } = {}): Playground {
  const assets = new Map<string, Asset>();
  const add = (name: string, body: Buffer, contentType: string) =>
    assets.set(name, { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  for (const [name, source] of Object.entries(ASSET_SOURCES)) add(name, readFileSync(path.join(packageDirectory(source.pkg), source.file)), source.contentType);
  add('playground.js', Buffer.from(PLAYGROUND_CLIENT_SCRIPT, 'utf8'), 'text/javascript; charset=utf-8');

  const config = {
    endpoint: options.endpoint ?? '/graphql',
    defaultHeaders: options.defaultHeaders ?? '{\n  "Authorization": "Bearer <token, unless CALLER_AUTH=none>"\n}',
    examples: playgroundExamples(options),
  };
  // JSON inside <script type="application/json"> is data, not code; escaping `<` keeps it from closing the tag.
  const configJson = JSON.stringify(config).replace(/</g, '\\u003c');
  const page = Buffer.from(
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>msgraph-user-gateway playground</title>
<link rel="stylesheet" href="/playground/assets/graphiql.min.css">
<link rel="stylesheet" href="/playground/assets/playground.css">
</head>
<body>
<div id="graphiql">Loading the playground…</div>
<script id="playground-config" type="application/json">${configJson}</script>
<script src="/playground/assets/react.production.min.js"></script>
<script src="/playground/assets/react-dom.production.min.js"></script>
<script src="/playground/assets/graphiql.min.js"></script>
<script src="/playground/assets/playground.js"></script>
</body>
</html>
`,
    'utf8',
  );
  add('playground.css', Buffer.from('html, body, #graphiql { height: 100%; margin: 0; }\n', 'utf8'), 'text/css; charset=utf-8');

  return {
    servePage(res) {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': page.length,
        'cache-control': 'no-cache',
        'content-security-policy': PLAYGROUND_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
      res.end(page);
    },
    serveAsset(req, res, name) {
      const asset = assets.get(name);
      if (!asset) return false;
      const headers = {
        'cache-control': 'public, max-age=86400',
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
