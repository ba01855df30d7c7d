import { createHash } from 'node:crypto';

/**
 * A GUID drawn from the SHA-256 of `text`: the same text gives the same id in every run (seeded
 * objects, role instances), shaped as a version-4 GUID so that clients' id checks accept it.
 * `variant` is the first digit of the fourth group; directoryRole ids keep the `a` they always had.
 */
export function digestGuid(text: string, variant: '8' | 'a' = '8'): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
