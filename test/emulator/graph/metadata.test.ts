import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { TestEmulator } from '../../support/emulator.js';
import { userEntity } from '../../../src/emulator/graph/entities.js';
import { type graphCaller, mintToken, startEmulatorAsApp } from './graph-client.js';
import { chromiumAvailable, launchChromium } from '../../support/chromium.js';

/**
 * `GET /v1.0/$metadata`: the CSDL document, parsed by a real namespace-aware XML parser (headless
 * Debian Chromium's DOMParser), checked for what an OData client reads from it: the EDMX and EDM
 * namespaces, Graph's namespace and container names, the user entity with key `id` (inherited from
 * `entity` through `directoryObject`), every property the emulator returns declared once with its Edm
 * type, the manager/directReports navigation properties and the `users` entity set.
 */
const available = chromiumAvailable('the $metadata XML test');

const EDMX = 'http://docs.oasis-open.org/odata/ns/edmx';
const EDM = 'http://docs.oasis-open.org/odata/ns/edm';

interface ParsedType {
  name: string;
  kind: 'EntityType' | 'ComplexType';
  baseType: string | null;
  abstract: boolean;
  key: string[];
  properties: Array<{ name: string; type: string; nullable: string | null }>;
  navigation: Array<{ name: string; type: string }>;
}

interface ParsedCsdl {
  parseError: string | null;
  root: { localName: string; namespace: string | null; version: string | null };
  schemas: Array<{ namespace: string | null; alias: string | null; elementNamespace: string | null }>;
  types: ParsedType[];
  containers: Array<{ name: string | null; entitySets: Array<{ name: string; entityType: string }> }>;
}

/** Runs in the page: DOMParser, then what the tests look at, by namespace and local name. */
const PARSE_IN_BROWSER = `function (xml) {
  const EDMX = ${JSON.stringify(EDMX)};
  const EDM = ${JSON.stringify(EDM)};
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const error = doc.getElementsByTagName('parsererror')[0];
  const el = doc.documentElement;
  const children = (parent, name) => Array.from(parent.children).filter((c) => c.namespaceURI === EDM && c.localName === name);
  const schemas = Array.from(doc.getElementsByTagNameNS(EDM, 'Schema'));
  return {
    parseError: error ? (error.textContent || 'parse error') : null,
    root: { localName: el.localName, namespace: el.namespaceURI, version: el.getAttribute('Version') },
    schemas: schemas.map((s) => ({
      namespace: s.getAttribute('Namespace'),
      alias: s.getAttribute('Alias'),
      elementNamespace: s.parentElement && s.parentElement.namespaceURI === EDMX ? s.namespaceURI : null,
    })),
    types: schemas.flatMap((schema) =>
      [...children(schema, 'EntityType'), ...children(schema, 'ComplexType')].map((t) => ({
        name: t.getAttribute('Name') || '',
        kind: t.localName,
        baseType: t.getAttribute('BaseType'),
        abstract: t.getAttribute('Abstract') === 'true',
        key: children(t, 'Key').flatMap((k) => children(k, 'PropertyRef').map((r) => r.getAttribute('Name') || '')),
        properties: children(t, 'Property').map((p) => ({ name: p.getAttribute('Name') || '', type: p.getAttribute('Type') || '', nullable: p.getAttribute('Nullable') })),
        navigation: children(t, 'NavigationProperty').map((p) => ({ name: p.getAttribute('Name') || '', type: p.getAttribute('Type') || '' })),
      })),
    ),
    containers: schemas.flatMap((s) =>
      children(s, 'EntityContainer').map((c) => ({
        name: c.getAttribute('Name'),
        entitySets: children(c, 'EntitySet').map((e) => ({ name: e.getAttribute('Name') || '', entityType: e.getAttribute('EntityType') || '' })),
      })),
    ),
  };
}`;

describe.skipIf(!available)('GET /v1.0/$metadata', () => {
  let emulator: TestEmulator;
  let graph: ReturnType<typeof graphCaller>;
  let browser: Browser;
  let text: string;
  let csdl: ParsedCsdl;

  async function parse(xml: string): Promise<ParsedCsdl> {
    const page = await browser.newPage();
    try {
      // A string: the test's TypeScript has no DOM library, the browser page has one.
      return (await page.evaluate(`(${PARSE_IN_BROWSER})(${JSON.stringify(xml)})`)) as ParsedCsdl;
    } finally {
      await page.close();
    }
  }

  const type = (name: string) => {
    const found = csdl.types.find((t) => t.name === name);
    if (!found) throw new Error(`no type ${name}`);
    return found;
  };

  beforeAll(async () => {
    ({ emulator, graph } = await startEmulatorAsApp(['User Administrator'], { userCount: 20 }));
    browser = await launchChromium();
    const res = await graph('GET', '/v1.0/$metadata');
    expect(res.status).toBe(200);
    text = res.text;
    csdl = await parse(text);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await emulator?.close();
  });

  it('is served as XML, OData 4.0, with Graph request ids', async () => {
    const res = await graph('GET', '/v1.0/$metadata');
    expect(res.headers.get('content-type')).toBe('application/xml');
    expect(res.headers.get('odata-version')).toBe('4.0');
    expect(res.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.text.startsWith('<?xml version="1.0" encoding="utf-8"?>')).toBe(true);
  });

  it('is well-formed EDMX 4.0 with one microsoft.graph schema (alias graph) in the EDM namespace', () => {
    expect(csdl.parseError).toBeNull();
    expect(csdl.root).toEqual({ localName: 'Edmx', namespace: EDMX, version: '4.0' });
    expect(csdl.schemas).toEqual([{ namespace: 'microsoft.graph', alias: 'graph', elementNamespace: EDM }]);
  });

  it('a parser reports a broken document (the check above can fail)', async () => {
    const broken = await parse(text.replace('</edmx:DataServices>', ''));
    expect(broken.parseError).not.toBeNull();
  });

  it('user derives from directoryObject, which derives from the abstract entity keyed by id', () => {
    const entity = type('entity');
    expect(entity).toMatchObject({ kind: 'EntityType', abstract: true, key: ['id'], baseType: null });
    expect(entity.properties).toEqual([{ name: 'id', type: 'Edm.String', nullable: 'false' }]);
    expect(type('directoryObject')).toMatchObject({ kind: 'EntityType', baseType: 'graph.entity', key: [] });
    expect(type('directoryObject').properties).toEqual([{ name: 'deletedDateTime', type: 'Edm.DateTimeOffset', nullable: null }]);
    expect(type('user')).toMatchObject({ kind: 'EntityType', baseType: 'graph.directoryObject', key: [] });
  });

  it('declares every property the emulator returns for a user, once, and no other', () => {
    const declared = [...type('user').properties, ...type('directoryObject').properties, ...type('entity').properties].map((p) => p.name);
    expect(new Set(declared).size).toBe(declared.length);
    expect([...declared].sort()).toEqual([...userEntity.properties].sort());
  });

  it('gives each property its Edm type', () => {
    const props = new Map(type('user').properties.map((p) => [p.name, p]));
    expect(props.get('displayName')).toEqual({ name: 'displayName', type: 'Edm.String', nullable: null });
    expect(props.get('accountEnabled')?.type).toBe('Edm.Boolean');
    expect(props.get('createdDateTime')?.type).toBe('Edm.DateTimeOffset');
    expect(props.get('businessPhones')).toEqual({ name: 'businessPhones', type: 'Collection(Edm.String)', nullable: 'false' });
    expect(props.get('passwordProfile')?.type).toBe('graph.passwordProfile');
    expect(props.get('identities')?.type).toBe('Collection(graph.objectIdentity)');
    expect(props.get('onPremisesExtensionAttributes')?.type).toBe('graph.onPremisesExtensionAttributes');
    // Every graph.* type a property names is declared in the document.
    const names = new Set(csdl.types.map((t) => t.name));
    for (const t of csdl.types) {
      for (const p of t.properties) {
        const ref = /^(?:Collection\()?graph\.(\w+)\)?$/.exec(p.type)?.[1];
        if (ref) expect(names.has(ref), `${t.name}.${p.name}: ${p.type}`).toBe(true);
        else expect(p.type, `${t.name}.${p.name}`).toMatch(/^(?:Collection\()?Edm\.(String|Boolean|DateTimeOffset|Guid)\)?$/);
      }
    }
    expect(type('onPremisesExtensionAttributes').properties.map((p) => p.name)).toEqual(Array.from({ length: 15 }, (_, i) => `extensionAttribute${i + 1}`));
  });

  it('has manager (single) and directReports (collection) typed as directory objects, as Graph does', () => {
    expect(type('user').navigation).toEqual([
      { name: 'directReports', type: 'Collection(graph.directoryObject)' },
      { name: 'manager', type: 'graph.directoryObject' },
    ]);
  });

  it('puts the users entity set in the GraphService container', () => {
    expect(csdl.containers).toEqual([{ name: 'GraphService', entitySets: [{ name: 'users', entityType: 'microsoft.graph.user' }] }]);
  });

  it('needs a valid token like every Graph request, and only GET', async () => {
    const anonymous = await graph('GET', '/v1.0/$metadata', { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('InvalidAuthenticationToken');
    const expired = await graph('GET', '/v1.0/$metadata', { token: await mintToken(emulator, { issuedAt: Math.floor(Date.now() / 1000) - 7200 }) });
    expect(expired.status).toBe(401);
    const post = await graph('POST', '/v1.0/$metadata', { body: {} });
    expect(post.status).toBe(405);
  });

  it('counts in the statistics under its own route', async () => {
    const before = (await (await emulator.fetch('/_emulator/stats')).json()) as { byRoute: Record<string, number> };
    await graph('GET', '/v1.0/$metadata');
    const after = (await (await emulator.fetch('/_emulator/stats')).json()) as { byRoute: Record<string, number> };
    expect((after.byRoute['GET /v1.0/$metadata'] ?? 0) - (before.byRoute['GET /v1.0/$metadata'] ?? 0)).toBe(1);
  });
});
