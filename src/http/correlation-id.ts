import { randomUUID } from 'node:crypto';

// A caller-supplied id is echoed into logs, so it is only taken when it is short and plain.
const SANE_CORRELATION_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** The request's `x-correlation-id` when it is short and plain, else a fresh one. */
export function correlationIdOf(headers: Record<string, string | string[] | undefined>): string {
  const raw = headers['x-correlation-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value && SANE_CORRELATION_ID.test(value) ? value : randomUUID();
}
