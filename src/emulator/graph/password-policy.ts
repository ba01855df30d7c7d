/**
 * Entra's password complexity rules, as far as the emulator enforces them
 * (docs/graph-facts.md#writes-and-permissions, "Passwords": learn.microsoft.com/entra/identity/authentication/concept-sspr-policy).
 */
import type { UserRecord } from '../model.js';
import { badRequest } from './errors.js';

export const PASSWORD_COMPLEXITY_MESSAGE = 'The specified password does not comply with password complexity requirements. Please provide a different password.';

/**
 * The characters Entra allows in a password (concept-sspr-policy, "Characters allowed"): A-Z, a-z, 0-9,
 * the listed symbols and a blank space. Anything else, every non-ASCII ("Unicode") character included,
 * is "not allowed".
 */
const ALLOWED_PASSWORD_CHARACTERS = /^[A-Za-z0-9@#$%^&*\-_!+=[\]{}|\\:',.?/`~"();<> ]*$/;

export function passwordProblem(password: string, user: Pick<UserRecord, 'userPrincipalName' | 'displayName' | 'mailNickname'>): string | undefined {
  if (password.length < 8 || password.length > 256) return 'length';
  if (!ALLOWED_PASSWORD_CHARACTERS.test(password)) return 'characters';
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 3) return 'classes';
  const lower = password.toLowerCase();
  const names = [user.userPrincipalName.split('@')[0] ?? '', user.mailNickname, ...user.displayName.split(/\s+/)]
    .map((n) => n.toLowerCase())
    .filter((n) => n.length >= 3);
  if (names.some((n) => lower.includes(n))) return 'contains-name';
  return undefined;
}

export function assertPasswordComplexity(password: unknown, user: Pick<UserRecord, 'userPrincipalName' | 'displayName' | 'mailNickname'>): string {
  if (typeof password !== 'string') throw badRequest("Invalid value specified for property 'passwordProfile.password' of resource 'User'.");
  if (passwordProblem(password, user)) throw badRequest(PASSWORD_COMPLEXITY_MESSAGE);
  return password;
}

/** A system-generated password (resetPassword without newPassword). */
export function generatePassword(random: () => number): string {
  const pick = (chars: string) => chars[Math.floor(random() * chars.length)]!;
  let out = '';
  for (let i = 0; i < 4; i += 1) out += pick('BCDFGHJKLMNPQRSTVWXZ');
  for (let i = 0; i < 4; i += 1) out += pick('bcdfghjkmnpqrstvwxz');
  for (let i = 0; i < 4; i += 1) out += pick('23456789');
  return `${out}!`;
}
