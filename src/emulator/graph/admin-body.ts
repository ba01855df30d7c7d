/**
 * Reading the JSON body of an emulator admin route that adds an object to the tenant
 * (`POST /_emulator/contacts`, `POST /_emulator/endpoints`): every refusal is an Error whose message
 * the route answers with 400.
 */

/** The body as an object, or an Error naming `what` (`the contact must be a JSON object`). */
export function objectBody(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error(`the ${what} must be a JSON object`);
  return body as Record<string, unknown>;
}

/** Refuses a setting the route does not know, so that a typo is not silently ignored. */
export function rejectUnknownSettings(body: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const key of Object.keys(body)) if (!known.includes(key)) throw new Error(`Unknown ${what} setting '${key}'.`);
}

/** A string setting, null when absent or null. */
export function optionalString(body: Record<string, unknown>, key: string): string | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new Error(`'${key}' must be a string.`);
  return v;
}
