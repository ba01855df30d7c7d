/**
 * Collection queries: `$select`, `$filter`, `$search`, `$orderby`, `$top`, `$count`, `$skiptoken`
 * and the default/advanced query rules (docs/graph-facts.md#listing-users, #paging). Paging is keyset-based on the sort
 * order plus id, so following every nextLink visits each record exactly once.
 */
import type { EmuResponse } from '../http.js';
import { GraphError, badRequest, unknownProperty, unsupportedQuery } from './errors.js';
import { analyzeFilter, canonicalProperty, isSearchableProperty, readPath, type EntityType } from './entities.js';
import { evaluateFilter, parseFilter } from './odata-filter.js';
import { matchesSearch, parseSearch } from './odata-search.js';
import { isEventual, metadataUrl, ok, queryParam, type GraphCall } from './call.js';
import { assertAdvancedQueryUrlLength, assertDefaultFilterLimits, assertSearchEncodingAccepted } from './query-limits.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 999;

export function parseSelect<R>(entity: EntityType<R>, raw: string | undefined, options: { list: boolean }): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const out: string[] = [];
  for (const name of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (name === '*') {
      for (const p of entity.properties) if (!entity.singleGetOnly?.has(p) && !out.includes(p)) out.push(p);
      continue;
    }
    const canonical = canonicalProperty(entity, name);
    if (!canonical) throw unknownProperty(name, entity.typeName);
    if (options.list && entity.singleGetOnly?.has(canonical)) {
      throw new GraphError(501, 'NotImplemented', `The '${canonical}' property is only supported when getting a single user.`);
    }
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

export function project(full: Record<string, unknown>, select: readonly string[], odataType?: string): Record<string, unknown> {
  const out: Record<string, unknown> = odataType ? { '@odata.type': odataType } : {};
  for (const p of select) out[p] = full[p] ?? null;
  return out;
}

/**
 * An object the caller may not read, as Graph lists it in a relationship: `@odata.type` and `id`,
 * every other selected property null and a collection empty (the sample of Microsoft's
 * troubleshooting article on memberOf keeps `groupTypes: []`; docs/graph-facts.md#manager-and-bulk-lookup).
 */
export function projectLimited(full: Record<string, unknown>, select: readonly string[], odataType: string): Record<string, unknown> {
  const out: Record<string, unknown> = { '@odata.type': odataType, id: full.id };
  for (const p of select) if (p !== 'id') out[p] = Array.isArray(full[p]) ? [] : null;
  return out;
}

/**
 * `$top` of a directory collection: 1 to 999 (user-list). Outside that range Graph answers 400
 * `Request_UnsupportedQuery` "Invalid page size specified: '1000'. Must be between 1 and 999
 * inclusive." on users and on relationship collections such as a group's members, as field reports
 * quote it (docs/graph-facts.md#listing-users, "Page size").
 */
export function parseTop(call: GraphCall, max = MAX_PAGE_SIZE): number | undefined {
  const raw = queryParam(call, '$top');
  if (raw === undefined) return undefined;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw unsupportedQuery(`Invalid page size specified: '${raw}'. Must be between 1 and ${max} inclusive.`);
  }
  return n;
}

/** `$expand` of one relationship, optionally with a nested `$select` (and `$levels` for `manager`). */
export interface ExpandSpec {
  property: string;
  select?: string[] | undefined;
  /** `manager($levels=n)`: how many managers up the chain to nest (`max`: all of them). */
  levels?: number | undefined;
}

const MAX_LEVELS = 1000;

/**
 * `$levels` inside `$expand=manager(...)` (user-list-manager, docs/graph-facts.md#expand-and-page-size):
 * `max` or 1..1000, on a single user only (`/users/{id}`, `/me`, never the list of users), and only
 * with `ConsistencyLevel: eventual`. The list refusal is Graph's as reported; the others' messages
 * are not documented.
 */
function parseLevels(call: GraphCall, property: string, value: string, single: boolean): number {
  if (property !== 'manager') throw badRequest(`Query option '$levels' is not allowed inside $expand of '${property}'.`);
  // Graph's answer as microsoftgraph/microsoft-graph-docs#18615 quotes it (docs/graph-facts.md#expand-and-page-size).
  if (!single) throw unsupportedQuery("Transitive manager's list is only supported on a single user, send the $expand request on /users/{id} endpoint");
  if (!isEventual(call)) {
    throw unsupportedQuery(
      "Query option '$levels' is not supported because the 'ConsistencyLevel:eventual' header is missing. Refer to https://aka.ms/graph-docs/advanced-queries for more information",
    );
  }
  const raw = value.trim();
  if (raw.toLowerCase() === 'max') return Number.POSITIVE_INFINITY;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LEVELS) throw badRequest(`Invalid value '${raw.slice(0, 50)}' for '$levels': use max or 1 to ${MAX_LEVELS}.`);
  return n;
}

const NOT_EXPANDABLE = new Set(['photo', 'photos', 'events', 'messages', 'calendar', 'drive', 'extensions', 'mailFolders', 'contacts']);

export function parseExpand(
  call: GraphCall,
  expandable: readonly string[],
  targetEntity: EntityType<unknown> | undefined,
  options: { single: boolean } = { single: false },
): ExpandSpec | undefined {
  const raw = queryParam(call, '$expand');
  if (raw === undefined || raw.trim() === '') return undefined;
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of raw) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  parts.push(current.trim());
  // Users take one expanded relationship: a Microsoft engineer's answer and Graph's message in
  // microsoftgraph/microsoft-graph-docs#96 (docs/graph-facts.md#expand-and-page-size).
  if (parts.length > 1) throw badRequest('The result of parsing $expand contained at least 2 items, but the maximum allowed is 1.', 'BadRequest');
  const m = /^([A-Za-z]+)(?:\((.*)\))?$/.exec(parts[0]!);
  if (!m) throw badRequest(`Invalid $expand value '${raw}'.`);
  const name = m[1]!;
  const property = expandable.find((e) => e.toLowerCase() === name.toLowerCase());
  if (!property) {
    if (NOT_EXPANDABLE.has(name)) throw new GraphError(400, 'ExpandNotSupported', `Expanding '${name}' is not supported.`);
    throw unknownProperty(name);
  }
  let select: string[] | undefined;
  let levels: number | undefined;
  for (const option of (m[2] ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = option.indexOf('=');
    const key = option.slice(0, eq).trim().toLowerCase();
    const value = option.slice(eq + 1);
    if (key === '$select' && targetEntity) select = parseSelect(targetEntity, value, { list: true });
    else if (key === '$levels') levels = parseLevels(call, property, value, options.single);
    else throw badRequest(`Query option '${option.slice(0, eq)}' is not allowed inside $expand for directory objects.`);
  }
  return { property, select, levels };
}

interface OrderSpec {
  property: string;
  descending: boolean;
}

/**
 * `$orderby` on users (docs/graph-facts.md#listing-users, "$orderby"): one property; `displayName` and
 * `userPrincipalName` by default, `createdDateTime` and `deletedDateTime` in advanced queries only
 * (aad-advanced-queries). Descending order is refused by default: Microsoft's answer in
 * microsoftgraph/microsoft-graph-docs#127 says sorting users in descending order is not supported and
 * that the service answers it with an error; no later source says a default query takes `desc`, so
 * the emulator, strict where the documentation is silent, takes it in advanced queries only.
 */
function parseOrderBy<R>(entity: EntityType<R>, raw: string | undefined): { spec?: OrderSpec; advanced: boolean; reason?: string } {
  if (raw === undefined || raw.trim() === '') return { advanced: false };
  const clauses = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (clauses.length > 1) throw unsupportedQuery('Sorting by more than one property is not supported.');
  const [name, direction = 'asc'] = clauses[0]!.split(/\s+/);
  const property = canonicalProperty(entity, name!);
  if (!property) throw unknownProperty(name!, entity.typeName);
  if (!/^(asc|desc)$/i.test(direction)) throw badRequest(`Invalid $orderby direction '${direction}'.`, 'BadRequest');
  const defaultOrder = ['displayName', 'userPrincipalName'];
  const advancedOrder = ['createdDateTime', 'deletedDateTime'];
  if (!defaultOrder.includes(property) && !advancedOrder.includes(property)) {
    throw unsupportedQuery(`Sorting not supported for '${property}'.`);
  }
  const descending = direction.toLowerCase() === 'desc';
  const spec = { property, descending };
  if (advancedOrder.includes(property)) return { spec, advanced: true, reason: `Sorting by '${property}'` };
  if (descending) return { spec, advanced: true, reason: `Sorting by '${property}' in descending order` };
  return { spec, advanced: false };
}

type SortKey = [string | number | null, string];

function sortKey(obj: Record<string, unknown>, order: OrderSpec | undefined): SortKey {
  const id = String(obj.id).toLowerCase();
  if (!order) return [null, id];
  const v = obj[order.property];
  return [typeof v === 'string' ? v.toLowerCase() : typeof v === 'number' ? v : null, id];
}

function compareKeys(a: SortKey, b: SortKey, descending: boolean): number {
  const cmp = (x: string | number | null, y: string | number | null) => (x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1);
  const primary = cmp(a[0], b[0]) * (descending ? -1 : 1);
  return primary !== 0 ? primary : cmp(a[1], b[1]);
}

const TOKEN_PREFIX = 'X1';

export function encodeSkipToken(payload: unknown): string {
  return TOKEN_PREFIX + Buffer.from(JSON.stringify(payload)).toString('base64url');
}

export function decodeSkipToken(token: string): unknown {
  try {
    if (!token.startsWith(TOKEN_PREFIX)) throw new Error('format');
    return JSON.parse(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw expiredPageToken();
  }
}

/** The directory's answer to a page token it no longer takes (field reports, docs/graph-facts.md#paging). */
export function expiredPageToken(): GraphError {
  return new GraphError(400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.');
}

/** Whether a page token issued at `issuedAt` (emulator clock, ms) has outlived the `pageTokenLifetimeSeconds` switch. */
export function pageTokenExpired(call: GraphCall, issuedAt: number): boolean {
  const lifetime = call.ctx.graph.pageTokenLifetimeSeconds;
  return lifetime !== null && call.ctx.now() - issuedAt >= lifetime * 1000;
}

/** The request's own URL (absolute, on the emulator origin) with its parameters but a new token. */
export function linkWith(call: GraphCall, tokenName: '$skiptoken' | '$deltatoken', token: string, dropParams: string[] = []): string {
  const parts: string[] = [];
  for (const [key, value] of call.req.url.searchParams) {
    if (key === '$skiptoken' || key === '$deltatoken' || key === '$deltaToken' || dropParams.includes(key)) continue;
    parts.push(`${key}=${encodeURIComponent(value)}`);
  }
  parts.push(`${tokenName}=${token}`);
  return `${call.ctx.origin}${call.req.url.pathname}?${parts.join('&')}`;
}

/** Rejects query options the directory does not support on collections. */
export function rejectUnsupportedOptions(call: GraphCall): void {
  if (queryParam(call, '$skip') !== undefined) throw badRequest("'$skip' is not supported by the service.");
}

export interface CollectionOptions<R> {
  entity: EntityType<R>;
  records: readonly R[];
  /** Fragment for `@odata.context`, e.g. `users` or `directoryObjects`. */
  contextFragment: string;
  /** Items carry `@odata.type` (directoryObject collections). */
  typedItems: boolean;
  allowSearch: boolean;
  allowOrderBy: boolean;
  /** Relationship collections need an advanced query for any `$filter`. */
  filterIsAdvanced: boolean;
  /** `$top` is checked but not honoured: pages hold Graph's default size (the `directReportsTop` switch). */
  ignoreTop?: boolean;
  /**
   * `$search` needs `$count=true` besides the header (an advanced query in full), where the resource's
   * page says so; `/users` takes the header alone (docs/graph-facts.md#listing-users).
   */
  searchIsAdvanced?: boolean;
  /** The only properties `$search` may name, where the resource's page lists them. */
  searchProperties?: readonly string[];
  /**
   * How one item of the page is written, when items are not all of `entity`'s type (a directoryObject
   * collection holding contacts too); default: `entity`'s projection of `select`.
   */
  item?: (record: R, graph: Record<string, unknown>, select: readonly string[] | undefined) => Record<string, unknown>;
  /** `$expand` support: relationships and how to expand one record. */
  expand?: { properties: readonly string[]; target: EntityType<unknown>; apply: (record: R, spec: ExpandSpec) => [string, unknown] | undefined };
}

interface PreparedQuery<R> {
  matches: R[];
  objects: Map<R, Record<string, unknown>>;
  order: OrderSpec | undefined;
  select: string[] | undefined;
  withCount: boolean;
  expand: ExpandSpec | undefined;
}

function missingAdvancedHeader(call: GraphCall, reason: string): GraphError {
  return isEventual(call)
    ? unsupportedQuery(
        `${reason} is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
      )
    : unsupportedQuery(
        `${reason} is not supported because the 'ConsistencyLevel:eventual' header is missing. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
      );
}

/** Filters, searches and orders a collection, enforcing the default/advanced query rules. */
export function prepareQuery<R>(call: GraphCall, opts: CollectionOptions<R>, countSegment = false): PreparedQuery<R> {
  rejectUnsupportedOptions(call);
  const eventual = isEventual(call);
  const countRequested = countSegment || (queryParam(call, '$count') ?? '').toLowerCase() === 'true';
  const advancedAllowed = eventual && countRequested;
  let advancedReason: string | undefined;

  const select = parseSelect(opts.entity, queryParam(call, '$select'), { list: true });
  const filterText = queryParam(call, '$filter');
  const filter = filterText === undefined ? undefined : parseFilter(filterText);
  if (filter) {
    const analysis = analyzeFilter(opts.entity, filter);
    if (analysis.advanced) advancedReason ??= analysis.reason;
    if (opts.filterIsAdvanced) advancedReason ??= 'Filtering on this relationship';
  }
  const searchText = queryParam(call, '$search');
  let search;
  if (searchText !== undefined) {
    if (!opts.allowSearch) throw badRequest('$search is not supported on this resource.', 'Request_UnsupportedQuery');
    if (!eventual) {
      throw unsupportedQuery("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'");
    }
    assertSearchEncodingAccepted(call);
    const trimmed = searchText.trim();
    search = parseSearch(trimmed, (name) => {
      const property = canonicalProperty(opts.entity, name);
      const listed = property === undefined || opts.searchProperties === undefined || opts.searchProperties.includes(property);
      if (property !== undefined && (!listed || !isSearchableProperty(opts.entity, property))) {
        throw unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${property}' of resource '${opts.entity.resourceName}'.`);
      }
      return property;
    });
    if (opts.searchIsAdvanced) advancedReason ??= 'Searching this relationship';
  }
  let order: OrderSpec | undefined;
  const orderRaw = queryParam(call, '$orderby');
  if (orderRaw !== undefined) {
    if (!opts.allowOrderBy) throw unsupportedQuery('$orderby is not supported on this resource.');
    const parsed = parseOrderBy(opts.entity, orderRaw);
    order = parsed.spec;
    if (parsed.advanced) advancedReason ??= parsed.reason;
    if (order && filter) advancedReason ??= 'Combining $filter and $orderby';
  }
  if (advancedReason !== undefined && !advancedAllowed) throw missingAdvancedHeader(call, advancedReason);
  // An advanced query is bounded by its URL length; a default one by its filter's size (docs/graph-facts.md#listing-users).
  const advancedMode = eventual && (countRequested || search !== undefined);
  if (advancedMode) assertAdvancedQueryUrlLength(call);
  else if (filter) assertDefaultFilterLimits(opts.entity, filter);

  const expand = opts.expand
    ? parseExpand(call, opts.expand.properties, opts.expand.target)
    : queryParam(call, '$expand')
      ? (() => {
          throw badRequest('$expand is not supported on this resource.');
        })()
      : undefined;
  const isAdvancedQuery = advancedReason !== undefined || search !== undefined || (eventual && countRequested);
  if (expand && isAdvancedQuery) throw unsupportedQuery('$expand is not supported with advanced queries (ConsistencyLevel:eventual with $count or $search).');

  const objects = new Map<R, Record<string, unknown>>();
  const matches: R[] = [];
  for (const record of opts.records) {
    const obj = opts.entity.toGraph(record);
    if (filter && !evaluateFilter(filter, (path) => readPath(obj, path))) continue;
    if (search && !matchesSearch(search, obj)) continue;
    objects.set(record, obj);
    matches.push(record);
  }
  const keyed = matches.map((r) => ({ r, key: sortKey(objects.get(r)!, order) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key, order?.descending ?? false));
  return { matches: keyed.map((k) => k.r), objects, order, select, withCount: eventual && countRequested, expand };
}

/** GET on a collection: one page, with `@odata.count` (page one) and `@odata.nextLink`. */
export function listCollection<R>(call: GraphCall, opts: CollectionOptions<R>): EmuResponse {
  const parsedTop = parseTop(call);
  const requestedTop = opts.ignoreTop ? DEFAULT_PAGE_SIZE : (parsedTop ?? DEFAULT_PAGE_SIZE);
  const q = prepareQuery(call, opts);
  // Pages with an expanded relationship may hold fewer items than `$top` (src/emulator/graph-settings.ts).
  const cap = call.ctx.graph.expandPageCap;
  const top = q.expand && cap !== null ? Math.min(requestedTop, cap) : requestedTop;
  const skipToken = queryParam(call, '$skiptoken');
  let start = 0;
  if (skipToken !== undefined) {
    const decoded = decodeSkipToken(skipToken) as { k?: SortKey; t?: number };
    if (!Array.isArray(decoded.k) || decoded.k.length !== 2) throw expiredPageToken();
    // Graph has answered page tokens as expired (the `pageTokenLifetimeSeconds` switch, docs/graph-facts.md#paging).
    if (typeof decoded.t === 'number' && pageTokenExpired(call, decoded.t)) throw expiredPageToken();
    const after = decoded.k;
    start = q.matches.findIndex((r) => compareKeys(sortKey(q.objects.get(r)!, q.order), after, q.order?.descending ?? false) > 0);
    if (start < 0) start = q.matches.length;
  }
  const page = q.matches.slice(start, start + top);
  const select = q.select ?? [...opts.entity.defaultSelect];
  const value = page.map((record) => {
    const item = opts.item
      ? opts.item(record, q.objects.get(record)!, q.select)
      : project(q.objects.get(record)!, select, opts.typedItems ? opts.entity.odataType : undefined);
    if (q.expand && opts.expand) {
      const expanded = opts.expand.apply(record, q.expand);
      if (expanded) item[expanded[0]] = expanded[1];
    }
    return item;
  });
  const body: Record<string, unknown> = {
    '@odata.context': metadataUrl(call, q.select ? `${opts.contextFragment}(${q.select.join(',')})` : opts.contextFragment),
  };
  if (q.withCount && skipToken === undefined) body['@odata.count'] = q.matches.length;
  if (start + top < q.matches.length) {
    const last = page[page.length - 1]!;
    body['@odata.nextLink'] = linkWith(call, '$skiptoken', encodeSkipToken({ k: sortKey(q.objects.get(last)!, q.order), t: call.ctx.now() }));
  }
  body.value = value;
  return ok(200, body);
}

/** `/users/$count` and friends: plain-text count; needs the eventual header. */
export function countCollection<R>(call: GraphCall, opts: CollectionOptions<R>): EmuResponse {
  if (!isEventual(call)) throw badRequest('$count is not currently supported.');
  const q = prepareQuery(call, opts, true);
  return { status: 200, headers: { 'content-type': 'text/plain;charset=utf-8' }, body: String(q.matches.length) };
}
