import type { GraphUser } from '../../graph/api.js';

/** What every payload's `user` field resolves from (see payload-user.ts). */
export interface UserRef {
  userKey: string;
  /** A user object Graph already returned (createUser), used when it covers the selection. */
  known?: GraphUser;
}

/**
 * What a mutation resolver returns for a payload with a `user` field (codegen mappers point here):
 * the payload's own fields, and instead of the user the key to fetch it by after the write, so it
 * shows the new state and only what the caller selected.
 */
export type UserPayloadModel<TPayload> = Omit<TPayload, 'user' | '__typename'> & UserRef;
