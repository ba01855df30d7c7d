/**
 * The longest an Entra access token can live: 60-90 minutes by default, up to a day under a token
 * lifetime policy (docs/graph-facts.md#revoked-sessions-and-access-tokens). How long a contained
 * user's earlier caller tokens must be refused (src/identity/caller-revocations.ts), and the longest
 * a hosted broker's token is kept whatever its `expires_in` says (src/identity/hosted-broker.ts).
 */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
