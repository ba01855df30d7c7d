import { badInput } from '../errors.js';
import { isGuid } from '../guid.js';

/**
 * Which strings may address a user: an object id (GUID) or a userPrincipalName made of the
 * characters Entra allows (docs/graph-facts.md#addressing-users-and-encoding: `A–Z a–z 0–9 ' . - _ ! # ^ ~`, a leading `$` for
 * service accounts, `#EXT#` for guests). Anything else is refused before a request is built, so a
 * caller cannot smuggle path segments or query text into a Graph URL.
 */
const UPN = /^\$?[A-Za-z0-9'._\-!#^~]{1,113}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/;

export function normalizeUserKey(id: string, argumentName = 'id'): string {
  const value = typeof id === 'string' ? id.trim() : '';
  if (isGuid(value)) return value.toLowerCase();
  if (value.length <= 256 && UPN.test(value)) return value;
  throw badInput(
    `\`${argumentName}\` must be a user object id (GUID) or a userPrincipalName such as adele.vance@contoso.example; received a value with characters a user cannot have.`,
    { argument: argumentName },
  );
}

/**
 * A value as an audit event may name its target: the user key it addresses, or nothing when it
 * addresses no user (not a string, or characters a user cannot have). The value is the caller's own
 * text, so nothing else of it is kept: before, a refused request could write 256 characters of its
 * choice into an event, U+2028 (a line break to many log viewers) and U+202E (shows what follows
 * reversed) included, which JSON leaves as they are.
 */
export function addressableUserKey(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return normalizeUserKey(value);
  } catch {
    return undefined;
  }
}
