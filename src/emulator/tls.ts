import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

/**
 * A private CA and a loopback server certificate for the emulator. msal-node only accepts https
 * authorities, so the emulator must speak TLS, and the gateway must trust its CA. Generated on
 * first start and kept in the data directory so a browser or a second process can trust the same
 * CA across restarts. node-forge is used because Node's crypto cannot issue X.509 certificates.
 */
export interface EmulatorTls {
  caCertPem: string;
  caFile: string;
  certPem: string;
  keyPem: string;
}

function newKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  // Node's native RSA generation is ~100x faster than forge's pure-JS one.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function serial(): string {
  // Positive serial number (leading byte < 0x80).
  return '01' + randomBytes(15).toString('hex');
}

export function createCertificate(options: {
  commonName: string;
  issuer?: { certPem: string; keyPem: string };
  isCa?: boolean;
  altNames?: Array<{ type: 2; value: string } | { type: 7; ip: string }>;
  days?: number;
}): { certPem: string; keyPem: string } {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serial();
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + (options.days ?? 825) * 86_400_000);
  const subject = [
    { name: 'commonName', value: options.commonName },
    { name: 'organizationName', value: 'msgraph-user-gateway emulator' },
  ];
  cert.setSubject(subject);
  const issuerCert = options.issuer ? forge.pki.certificateFromPem(options.issuer.certPem) : undefined;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : subject);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: options.isCa === true, critical: true },
    options.isCa
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ];
  if (!options.isCa) extensions.push({ name: 'extKeyUsage', serverAuth: true, clientAuth: true });
  if (options.altNames) extensions.push({ name: 'subjectAltName', altNames: options.altNames });
  cert.setExtensions(extensions);
  const signingKey = forge.pki.privateKeyFromPem(options.issuer?.keyPem ?? keys.privateKeyPem);
  cert.sign(signingKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** Loads the CA and server certificate from `dataDir`, creating them on first use. */
export function loadOrCreateTls(dataDir: string): EmulatorTls {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const caFile = path.join(dataDir, 'emulator-ca.pem');
  const caKeyFile = path.join(dataDir, 'emulator-ca.key');
  const certFile = path.join(dataDir, 'emulator-server.pem');
  const keyFile = path.join(dataDir, 'emulator-server.key');
  if (![caFile, caKeyFile, certFile, keyFile].every((f) => existsSync(f))) {
    const ca = createCertificate({ commonName: 'msgraph-user-gateway emulator CA', isCa: true, days: 3650 });
    const server = createCertificate({
      commonName: 'localhost',
      issuer: ca,
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    });
    writeFileSync(caKeyFile, ca.keyPem, { mode: 0o600 });
    writeFileSync(keyFile, server.keyPem, { mode: 0o600 });
    writeFileSync(certFile, server.certPem);
    writeFileSync(caFile, ca.certPem);
  }
  return {
    caCertPem: readFileSync(caFile, 'utf8'),
    caFile,
    certPem: readFileSync(certFile, 'utf8'),
    keyPem: readFileSync(keyFile, 'utf8'),
  };
}
