/**
 * An operation's name as logs and audit events carry it. A GraphQL name has no length limit of its
 * own (MAX_TOKENS counts it as one token), so a caller could make every log line of its requests
 * as large as the body allows; a name past 100 characters is cut, with its length said.
 */
const MAX_LOGGED_LENGTH = 100;

export function operationNameForLog(name: string | null | undefined): string | null {
  if (name === null || name === undefined) return null;
  return name.length <= MAX_LOGGED_LENGTH ? name : `${name.slice(0, MAX_LOGGED_LENGTH)}… (${name.length} characters)`;
}
