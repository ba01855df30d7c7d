import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatorContext } from './context.js';
import { handleBroker } from './broker.js';
import { handleEntra } from './entra.js';
import { handleEntraAdmin } from './entra/admin.js';
import { objectBody } from './graph/admin-body.js';
import { addContact } from './graph/contacts.js';
import { addEndpoint } from './graph/endpoints.js';
import { handleGraph } from './graph/router.js';
import { json, type EmuRequest, type EmuResponse } from './http.js';
import { validateGraphSettings } from './graph-settings.js';
import { applyTapPolicy } from './tap-policy.js';
import type { EmulatorTls } from './tls.js';

const MAX_BODY_BYTES = 4 * 1024 * 1024;

function toEmuRequest(req: IncomingMessage, body: Buffer, origin: string): EmuRequest {
  const rawUrl = req.url ?? '/';
  const queryAt = rawUrl.indexOf('?');
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    url: new URL(rawUrl, origin),
    rawPath: queryAt >= 0 ? rawUrl.slice(0, queryAt) : rawUrl,
    rawQuery: queryAt >= 0 ? rawUrl.slice(queryAt) : '',
    headers,
    body,
  };
}

function send(res: ServerResponse, response: EmuResponse): void {
  if (response.destroy) {
    res.socket?.destroy();
    return;
  }
  const headers = { ...(response.headers ?? {}) };
  let payload: Buffer | string | undefined;
  if (response.body === undefined || response.body === null) payload = undefined;
  else if (Buffer.isBuffer(response.body) || typeof response.body === 'string') payload = response.body;
  else {
    payload = JSON.stringify(response.body);
    headers['content-type'] ??= 'application/json';
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}

/**
 * A settings route's POST: the JSON body (empty = `{}`) goes to `apply`, which validates it and
 * answers the settings now in force; broken JSON or a refused setting is a 400 saying why.
 */
function configureFromBody(req: EmuRequest, what: string, apply: (body: unknown) => unknown): EmuResponse {
  let body: unknown;
  try {
    body = req.body.length ? JSON.parse(req.body.toString('utf8')) : {};
  } catch {
    return json(400, { error: `body must be JSON ${what}` });
  }
  try {
    return json(200, apply(body));
  } catch (error) {
    return json(400, { error: (error as Error).message });
  }
}

/** Admin routes (contract): stats, reset, faults, directory throttling, Graph and identity switches, the TAP policy, contacts, endpoints. Not counted in statistics. */
async function handleAdmin(ctx: EmulatorContext, req: EmuRequest, reset: () => Promise<void>): Promise<EmuResponse | undefined> {
  const p = req.url.pathname;
  if (p === '/_emulator/stats' && req.method === 'GET') return json(200, ctx.stats.snapshot());
  if (p === '/_emulator/stats' && req.method === 'DELETE') {
    ctx.stats.reset();
    return { status: 204 };
  }
  if (p === '/_emulator/reset' && req.method === 'POST') {
    await reset();
    return json(200, { ok: true });
  }
  if (p === '/_emulator/faults' && req.method === 'GET') return json(200, ctx.faults.settings);
  if (p === '/_emulator/faults' && req.method === 'POST') return configureFromBody(req, 'fault settings', (body) => ctx.faults.configure(body));
  // Targeted faults for one resource (src/emulator/faults.ts FaultRules): `{ "rules": [...] }` replaces them all.
  if (p === '/_emulator/faults/rules' && req.method === 'GET') return json(200, { rules: ctx.faults.rules.list() });
  if (p === '/_emulator/faults/rules' && req.method === 'POST')
    return configureFromBody(req, 'fault rules', (body) => ({ rules: ctx.faults.rules.replace(body) }));
  if (p === '/_emulator/throttling' && req.method === 'GET') return json(200, ctx.throttle.settings);
  if (p === '/_emulator/throttling' && req.method === 'POST') return configureFromBody(req, 'throttling settings', (body) => ctx.throttle.configure(body));
  if (p === '/_emulator/graph' && req.method === 'GET') return json(200, ctx.graph);
  if (p === '/_emulator/graph' && req.method === 'POST') {
    return configureFromBody(req, 'Graph settings', (body) => (ctx.graph = { ...ctx.graph, ...validateGraphSettings(body) }));
  }
  if (p === '/_emulator/tap-policy' && req.method === 'GET') return json(200, ctx.tenant.temporaryAccessPassPolicy);
  if (p === '/_emulator/tap-policy' && req.method === 'POST') {
    return configureFromBody(
      req,
      'Temporary Access Pass policy settings',
      (body) => (ctx.tenant.temporaryAccessPassPolicy = applyTapPolicy(ctx.tenant.temporaryAccessPassPolicy, body)),
    );
  }
  if (p === '/_emulator/contacts' && req.method === 'POST')
    return configureFromBody(req, 'contact', (body) => addContact(ctx.tenant, objectBody(body, 'contact')));
  if (p === '/_emulator/endpoints' && req.method === 'POST')
    return configureFromBody(req, 'endpoint', (body) => addEndpoint(ctx.tenant, objectBody(body, 'endpoint')));
  const identity = handleEntraAdmin(ctx, req);
  if (identity) return identity;
  if (p === '/_emulator/info' && req.method === 'GET') {
    return json(200, { origin: ctx.origin, tenantId: ctx.tenant.tenantId, domain: ctx.tenant.domain, users: ctx.tenant.users.size });
  }
  return undefined;
}

export async function listen(
  ctx: EmulatorContext,
  tls: EmulatorTls,
  options: { host: string; port: number; onOrigin: (origin: string) => void; reset: () => Promise<void> },
): Promise<Server> {
  const server = createServer({ cert: tls.certPem, key: tls.keyPem, keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'RequestEntityTooLarge', message: 'Request body too large.' } }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const emuReq = toEmuRequest(req, Buffer.concat(chunks), ctx.origin);
      void dispatch(ctx, emuReq, options.reset)
        .then((response) => send(res, response))
        .catch((error: unknown) => {
          send(res, json(500, { error: { code: 'InternalServerError', message: `Emulator failure: ${(error as Error).message}` } }));
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  options.onOrigin(`https://${host}:${address.port}`);
  return server;
}

async function dispatch(ctx: EmulatorContext, req: EmuRequest, reset: () => Promise<void>): Promise<EmuResponse> {
  const p = req.url.pathname;
  if (p.startsWith('/_emulator/')) {
    return (await handleAdmin(ctx, req, reset)) ?? json(404, { error: 'no such emulator admin route' });
  }
  if (p.startsWith('/v1.0/') || p === '/v1.0' || p.startsWith('/beta/') || p === '/beta') {
    const response = await handleGraph(ctx, req);
    ctx.stats.recordTraceparent(req.headers.traceparent);
    ctx.stats.recordRequest(response.route ?? `${req.method} ${p}`, response.destroy ? 0 : response.status, 'graph');
    return response;
  }
  if (p.startsWith('/broker/')) {
    const response = (await handleBroker(ctx, req)) ?? json(404, { error: 'not_found' });
    ctx.stats.recordRequest(response.route ?? `${req.method} ${p}`, response.status, 'other');
    return response;
  }
  const response = await handleEntra(ctx, req);
  if (response) {
    const isToken = response.route?.endsWith('/oauth2/v2.0/token') === true;
    ctx.stats.recordRequest(response.route ?? `${req.method} ${p}`, response.status, isToken ? 'token' : 'other');
    return response;
  }
  ctx.stats.recordRequest(`${req.method} (unknown)`, 404, 'other');
  return json(404, { error: { code: 'NotFound', message: `No emulator route for ${req.method} ${p}` } });
}
