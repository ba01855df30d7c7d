/**
 * The contract between the GraphQL layer (src/graphql) and the Graph client (src/graph).
 * Resolvers speak in these domain calls; the Graph client owns URLs, auth headers, `$batch`,
 * retries, paging and error mapping. Property names are Graph's (`displayName`, ...).
 */

/** A Graph user object as returned with `$select` (only selected properties present). */
export interface GraphUser {
  id: string;
  [property: string]: unknown;
}

export interface GraphGroup {
  id: string;
  [property: string]: unknown;
}

export interface GraphDirectoryObject {
  id: string;
  '@odata.type'?: string;
  [property: string]: unknown;
}

/** Graph user properties the gateway can select (the User type's scalar fields). */
export type UserProperty = string;

/** One page of a Graph collection. `nextLink` is Graph's `@odata.nextLink` (absolute URL). */
export interface GraphPage<T> {
  items: T[];
  nextLink: string | null;
  /** `@odata.count`, only when it was asked for. */
  count: number | null;
}

/** Compiled list query: produced by the GraphQL layer's filter/search compiler. */
export interface UserListQuery {
  /** OData `$filter` text, already escaped. */
  filter?: string;
  /** OData `$search` text, already quoted/escaped. */
  search?: string;
  orderBy?: string;
  top: number;
  select: UserProperty[];
  /** `$expand=manager($select=...)` in the same request. */
  expandManager?: UserProperty[];
  /** Ask for `@odata.count`. */
  count: boolean;
  /** Needs `ConsistencyLevel: eventual` + `$count=true` (Graph advanced query). */
  advanced: boolean;
}

/** Continuation of a collection: either the first page's query or a Graph nextLink. */
export type PageRequest<Q> = { kind: 'first'; query: Q } | { kind: 'next'; nextLink: string; advanced: boolean };

export interface RelationshipPageQuery {
  top: number;
  select: UserProperty[];
}

export type AuthMethodKind =
  | 'all'
  | 'email'
  | 'phone'
  | 'fido2'
  | 'microsoftAuthenticator'
  | 'softwareOath'
  | 'windowsHelloForBusiness'
  | 'temporaryAccessPass'
  | 'password';

export interface UserChangesPage {
  changed: GraphUser[];
  removed: Array<{ id: string; reason: 'changed' | 'deleted' }>;
  /** Set while more pages follow. */
  nextLink: string | null;
  /** Set on the last page: the token for the next round. */
  deltaLink: string | null;
}
