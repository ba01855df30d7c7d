import { createCipheriv, randomBytes } from 'node:crypto';

/**
 * A value as gateways before the bound format sealed it (`v1.`: AES-256-GCM, no associated data),
 * written here by hand because the gateway no longer writes this format: what an upgraded gateway
 * finds in a Redis or SQLite file its predecessor filled.
 */
export function sealInLegacyFormat(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1.${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
}
