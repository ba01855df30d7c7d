import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The hosted broker's `encrypted_token` (docs/identity.md#hosted-broker):
 * base64(nonce ‖ AES-256-GCM(key, nonce, "<epoch seconds>:<content>") ‖ tag), 12-byte random
 * nonce, no associated data. `content` is the kept refresh token, or the registration "Token".
 */
export function encryptBrokerToken(keyBase64: string, content: string, epochSeconds: number): string {
  const key = brokerKeyBytes(keyBase64);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(`${epochSeconds}:${content}`, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

/** The inverse, for tests and diagnostics. Throws when the key does not fit. */
export function decryptBrokerToken(keyBase64: string, encrypted: string): { epochSeconds: number; content: string } {
  const key = brokerKeyBytes(keyBase64);
  const blob = Buffer.from(encrypted, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, NONCE_BYTES));
  decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
  const text = Buffer.concat([decipher.update(blob.subarray(NONCE_BYTES, blob.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  const colon = text.indexOf(':');
  return { epochSeconds: Number(text.slice(0, colon)), content: text.slice(colon + 1) };
}

export function brokerKeyBytes(keyBase64: string): Buffer {
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== 32) throw new Error(`BROKER_KEY must be base64 of 32 bytes (AES-256), got ${key.length} bytes`);
  return key;
}
