import type { GraphPage } from '../graph/api.js';
import type { CallerCursors, CursorPayload } from './cursor.js';
import { badInput, isGatewayError } from '../errors.js';
import { MAX_PAGE_SIZE } from '../graph/requests.js';

/** What connection resolvers receive (codegen mappers point here). */
export interface EdgeModel<T> {
  cursor: string;
  node: T;
}

export interface PageInfoModel {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface ConnectionModel<T> {
  nodes: T[];
  edges: EdgeModel<T>[];
  pageInfo: PageInfoModel;
  /** Resolved only when `totalCount` is selected (it may cost a request). */
  totalCount: () => Promise<number | null> | number | null;
}

/** `first` bounded to Graph's page size limit, with a message that says what was received. */
export function validateFirst(first: number | null | undefined, fallback = 100): number {
  const value = first ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw badInput(`\`first\` must be between 1 and ${MAX_PAGE_SIZE}, received ${String(first)}.`, { argument: 'first' });
  }
  return value;
}

/** How one page is fetched: the first page of the query (with a page size) or a Graph link. */
export type PageFetch<T> = (
  request: { kind: 'first'; top: number } | { kind: 'next'; nextLink: string; advanced: boolean; fromGraph?: boolean },
) => Promise<GraphPage<T>>;

export interface PageOptions<T> {
  kind: string;
  first: number;
  after: string | null | undefined;
  cursors: CallerCursors;
  fetch: PageFetch<T>;
  /** The first page's query is an advanced one. */
  advanced: boolean;
  /** Properties the current selection needs: a cursor whose link selected fewer cannot serve it. */
  select?: string[];
  expandManager?: string[] | null;
  /**
   * Follow Graph's nextLink while fewer than `first` items are collected, at most `maxFollowed`
   * more requests: Graph may answer fewer items than `$top` (pages with `$expand`,
   * docs/graph-facts.md#expand-and-page-size), and a page resumed in its middle holds fewer too.
   * Pages are sequential, so each followed page is another round trip.
   */
  fill?: { maxFollowed: number };
  /** Count used when neither the page nor the cursor has one (called only if totalCount is selected). */
  countFallback?: (page: GraphPage<T>, payload: CursorPayload | null) => Promise<number | null> | number | null;
}

/** One Graph page of a connection page: the link it was fetched with (null = the query's first page). */
interface Segment<T> {
  link: string | null;
  page: GraphPage<T>;
}

/**
 * The Graph page a cursor resumes at. Graph has refused stored page tokens as expired (400
 * `Directory_ExpiredPageToken`, docs/graph-facts.md#paging): that is the caller's `after` gone
 * stale, not a bad request the caller can fix by changing it, so it says to start again.
 */
async function resumeAt<T>(fetch: PageFetch<T>, nextLink: string, advanced: boolean): Promise<GraphPage<T>> {
  try {
    return await fetch({ kind: 'next', nextLink, advanced });
  } catch (error) {
    if (isGatewayError(error) && error.extensions.graphErrorCode === EXPIRED_PAGE_TOKEN) {
      throw badInput('This cursor has expired at Microsoft Graph (its page token is no longer accepted): start again without `after`.', {
        ...error.extensions,
        argument: 'after',
        cursorExpired: true,
      });
    }
    throw error;
  }
}

const EXPIRED_PAGE_TOKEN = 'Directory_ExpiredPageToken';

/**
 * One Relay page over Graph's link-based paging. Graph can only resume at page boundaries (its
 * nextLink), so a cursor names the Graph page an edge came from plus how many of its items were
 * already returned. The end cursor of a fully returned page is simply Graph's nextLink: walking a
 * collection with the same `first` costs exactly one upstream request per Graph page. A page
 * collected over several Graph pages gives each edge the cursor of its own Graph page.
 */
export async function fetchConnectionPage<T>(options: PageOptions<T>): Promise<ConnectionModel<T> & { expandedManager: string[] | null }> {
  const payload = options.after == null ? null : options.cursors.decode(options.after, options.kind);
  if (payload?.nextLink && options.select) assertCursorCovers(payload, options.select);
  const skip = payload?.skip ?? 0;
  const sourceLink = payload?.nextLink ?? null;
  const advanced = payload?.advanced ?? options.advanced;
  const firstTop = Math.min(MAX_PAGE_SIZE, skip + options.first);
  const firstPage = sourceLink ? await resumeAt(options.fetch, sourceLink, advanced) : await options.fetch({ kind: 'first', top: firstTop });
  const segments: Segment<T>[] = [{ link: sourceLink, page: firstPage }];
  let collected = Math.max(0, firstPage.items.length - skip);
  if (options.fill) {
    let last = firstPage;
    for (let followed = 0; followed < options.fill.maxFollowed && collected < options.first && last.nextLink !== null; followed += 1) {
      const link = last.nextLink;
      // Graph's own link, this operation: one that cannot be followed is Graph's error, not the caller's.
      last = await options.fetch({ kind: 'next', nextLink: link, advanced, fromGraph: true });
      segments.push({ link, page: last });
      collected += last.items.length;
    }
  }
  const count = firstPage.count ?? payload?.count ?? null;
  // Built on the first cursor signed (most pages sign none).
  const baseOf = (): Omit<CursorPayload, 'nextLink' | 'skip'> => ({
    v: 1,
    kind: options.kind,
    advanced,
    // Links keep the $select/$expand of the request that made the first page, so cursors carry those.
    ...(sourceLink
      ? { select: payload?.select ?? [], expandManager: payload?.expandManager ?? null }
      : options.select
        ? { select: options.select, expandManager: options.expandManager ?? null }
        : {}),
    ...(count !== null ? { count } : {}),
  });
  let base: Omit<CursorPayload, 'nextLink' | 'skip'> | undefined;
  const cursorAfter = (segment: Segment<T>, index: number): string =>
    index === segment.page.items.length - 1 && segment.page.nextLink
      ? options.cursors.encode({ ...(base ??= baseOf()), nextLink: segment.page.nextLink, skip: 0 })
      : options.cursors.encode({ ...(base ??= baseOf()), nextLink: segment.link, skip: index + 1 });
  const edges: EdgeModel<T>[] = [];
  const nodes: T[] = [];
  let hasNextPage = false;
  // Cursors are signed only when read: most operations select nodes, not edges' cursors.
  segments.forEach((segment, position) => {
    const items = segment.page.items;
    const after = (index: number) => cursorAfter(segment, index);
    const from = position === 0 ? skip : 0;
    const end = Math.min(items.length, from + options.first - nodes.length);
    for (let index = from; index < end; index += 1) {
      const node = items[index] as T;
      nodes.push(node);
      edges.push(new LazyEdge(node, index, after));
    }
    if (position === segments.length - 1) hasNextPage = end < items.length || segment.page.nextLink !== null;
  });
  const lastSegment = segments[segments.length - 1]!;
  const lastEdge = edges[edges.length - 1];
  // The end cursor too is signed only when read (a profile card selects no pageInfo at all).
  const endCursorOf = (): string | null =>
    lastEdge
      ? lastEdge.cursor
      : lastSegment.page.nextLink
        ? options.cursors.encode({ ...(base ??= baseOf()), nextLink: lastSegment.page.nextLink, skip: 0 })
        : null;
  return {
    // What the fetched page really expanded: a link carries the expansion of the query that made it.
    expandedManager: sourceLink ? (payload?.expandManager ?? null) : (options.expandManager ?? null),
    nodes,
    edges,
    pageInfo: new LazyPageInfo(hasNextPage, endCursorOf),
    totalCount: () => {
      if (count !== null) return count;
      // A first page that holds the whole collection counts it without asking Graph.
      if (!sourceLink && lastSegment.page.nextLink === null) return segments.reduce((sum, s) => sum + s.page.items.length, 0);
      return options.countFallback ? options.countFallback(firstPage, payload) : null;
    },
  };
}

/** An edge whose cursor is signed on first read (a class: one shape for every edge, no closure each). */
class LazyEdge<T> implements EdgeModel<T> {
  #cursor: string | undefined;
  constructor(
    readonly node: T,
    private readonly index: number,
    private readonly cursorAfter: (index: number) => string,
  ) {}

  get cursor(): string {
    return (this.#cursor ??= this.cursorAfter(this.index));
  }
}

class LazyPageInfo implements PageInfoModel {
  #endCursor: string | null | undefined;
  constructor(
    readonly hasNextPage: boolean,
    private readonly endCursorOf: () => string | null,
  ) {}

  get endCursor(): string | null {
    if (this.#endCursor === undefined) this.#endCursor = this.endCursorOf();
    return this.#endCursor;
  }
}

function assertCursorCovers(payload: CursorPayload, select: string[]): void {
  const had = new Set(payload.select ?? []);
  const missing = select.filter((p) => !had.has(p));
  if (missing.length > 0) {
    throw badInput(
      `This cursor continues a query that did not select ${missing.join(', ')}; select the same fields on every page, or start again without \`after\`.`,
    );
  }
}
