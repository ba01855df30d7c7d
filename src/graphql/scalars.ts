import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { badInput } from '../errors.js';

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,7})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/**
 * Parses an RFC 3339 instant and prints it canonically in UTC (`2024-05-01T09:30:00Z`). A day the
 * month does not have is refused: `Date.parse` rolls 2020-02-30 over to 1 March, which would filter
 * on a day the caller never wrote.
 */
export function parseDateTime(value: unknown, what = 'DateTime'): string {
  const match = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  const calendarDay = new Date(Date.UTC(year, month - 1, day));
  if (!match || month < 1 || month > 12 || day < 1 || calendarDay.getUTCDate() !== day || calendarDay.getUTCMonth() !== month - 1) {
    throw badInput(`${what} must be an ISO 8601 date-time with a time zone, such as 2024-05-01T09:30:00Z.`);
  }
  return new Date(value as string).toISOString().replace(/\.000Z$/, 'Z');
}

export const DateTimeScalar = new GraphQLScalarType<string, string>({
  name: 'DateTime',
  description: 'An instant in time, as an ISO 8601 / RFC 3339 string in UTC.',
  // Graph already sends RFC 3339 UTC strings; passing them through keeps its precision.
  serialize: (value) => {
    if (typeof value === 'string') return value;
    if (value instanceof Date) return value.toISOString();
    throw new GraphQLError('DateTime cannot represent a non-date value.');
  },
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string such as "2024-05-01T09:30:00Z".');
    return parseDateTime(ast.value);
  },
});

const EMAIL = /^[^\s@"<>()[\]\\,;:]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$/;

function parseEmail(value: unknown): string {
  if (typeof value !== 'string' || value.length > 320 || !EMAIL.test(value)) {
    throw badInput('EmailAddress must look like local@domain.example.');
  }
  return value;
}

export const EmailAddressScalar = new GraphQLScalarType<string, string>({
  name: 'EmailAddress',
  description: 'An email address (`local@domain`).',
  // Outputs are whatever the directory holds; validation is for inputs only.
  serialize: (value) => {
    if (typeof value !== 'string') throw new GraphQLError('EmailAddress cannot represent a non-string value.');
    return value;
  },
  parseValue: parseEmail,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('EmailAddress must be a string.');
    return parseEmail(ast.value);
  },
});
