import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface CertificateCredential {
  /** Hex SHA-256 thumbprint of the leaf certificate (msal turns it into `x5t#S256`). */
  thumbprintSha256: string;
  /** PKCS#8 PEM private key. */
  privateKey: string;
  /** The public certificate chain (PEM), sent as `x5c` for subject-name/issuer authentication. */
  x5c: string;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/**
 * Reads AZURE_CLIENT_CERTIFICATE_PATH (PEM holding the certificate and its private key, in any
 * order). Normalises line endings and re-exports the key as PKCS#8: stray `\r\n` or "Bag
 * Attributes" lines from a PFX export otherwise end in AADSTS700027.
 */
export function loadCertificateCredential(file: string): CertificateCredential {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  } catch (error) {
    throw new Error(`AZURE_CLIENT_CERTIFICATE_PATH ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
  const certs = pem.match(CERT_BLOCK) ?? [];
  const keyPem = KEY_BLOCK.exec(pem)?.[0];
  if (certs.length === 0) throw new Error(`AZURE_CLIENT_CERTIFICATE_PATH ${file} holds no PEM certificate`);
  if (!keyPem) throw new Error(`AZURE_CLIENT_CERTIFICATE_PATH ${file} holds no PEM private key (it needs the certificate and its key)`);
  let privateKey: string;
  try {
    privateKey = createPrivateKey(keyPem).export({ format: 'pem', type: 'pkcs8' }).toString();
  } catch {
    throw new Error(`AZURE_CLIENT_CERTIFICATE_PATH ${file}: the private key cannot be parsed (encrypted keys must be decrypted first)`);
  }
  const leaf = new X509Certificate(certs[0]!);
  if (!leaf.checkPrivateKey(createPrivateKey(privateKey))) {
    throw new Error(`AZURE_CLIENT_CERTIFICATE_PATH ${file}: the private key does not belong to the first certificate`);
  }
  return { thumbprintSha256: leaf.fingerprint256.replace(/:/g, '').toLowerCase(), privateKey, x5c: certs.join('\n') };
}
