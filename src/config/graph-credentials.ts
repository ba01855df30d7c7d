import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Secret, type Config, type GraphAuthFlow } from '../config-types.js';
import { isGuid } from '../guid.js';
import type { EnvReader } from './env-reader.js';

/** The hosts of the only http redirect URIs Entra accepts (docs/graph-facts.md#redirect-uris); `app.localhost` is not one. */
const HTTP_REDIRECT_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The operator's own Entra app registration (self-deployed mode), or undefined with its problems recorded. */
export function readSelfDeployed(env: EnvReader, flow: GraphAuthFlow): Config['selfDeployed'] {
  const tenantId = env.get('AZURE_TENANT_ID');
  const clientId = env.get('AZURE_CLIENT_ID');
  const secret = env.get('AZURE_CLIENT_SECRET');
  const certPath = env.get('AZURE_CLIENT_CERTIFICATE_PATH');
  if (!tenantId)
    env.problem(
      'AZURE_TENANT_ID is missing: the directory (tenant) id of your Entra app registration, a GUID or a verified domain (e.g. AZURE_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47)',
    );
  else if (['common', 'organizations', 'consumers'].includes(tenantId.toLowerCase()))
    env.problem(
      `AZURE_TENANT_ID=${tenantId} is not valid: app-only Graph tokens need a specific tenant, a GUID or a verified domain (e.g. AZURE_TENANT_ID=contoso.onmicrosoft.com)`,
    );
  if (!clientId)
    env.problem(
      'AZURE_CLIENT_ID is missing: the application (client) id of your Entra app registration (e.g. AZURE_CLIENT_ID=0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f)',
    );
  else if (!isGuid(clientId))
    env.problem(
      // Quoted only when it could be a mistyped GUID: the client secret pasted here (its "Value"
      // beside the client id in the portal) went to stderr, the container log, in full.
      `AZURE_CLIENT_ID${/^[0-9A-Fa-f{}-]{1,40}$/.test(clientId) ? `=${JSON.stringify(clientId)}` : ' (not shown: it is no GUID and may be a secret)'} is not valid: the application (client) id is a GUID (e.g. AZURE_CLIENT_ID=0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f)`,
    );
  const credential = readAppCredential(env, secret, certPath);
  const authCode = env.get('AUTH_CODE');
  const redirectUri = env.get('REDIRECT_URI');
  if (flow === 'authorization-code') {
    if (!redirectUri)
      env.problem(
        'REDIRECT_URI is missing: the authorization-code flow needs the redirect URI registered on your app (e.g. REDIRECT_URI=http://localhost:4000/auth/callback)',
      );
    else {
      let parsed: URL | undefined;
      try {
        parsed = new URL(redirectUri);
      } catch {
        env.problem(
          `REDIRECT_URI=${JSON.stringify(redirectUri)} is not a URL: the redirect URI registered on your app (e.g. REDIRECT_URI=http://localhost:4000/auth/callback)`,
        );
      }
      // Entra cannot register such a URI and answers AADSTS500117 at the sign-in
      // (docs/graph-facts.md#redirect-uris): said now, not at the operator's first sign-in.
      if (parsed?.protocol === 'http:' && !HTTP_REDIRECT_HOSTS.has(parsed.hostname))
        env.problem(
          `REDIRECT_URI=${JSON.stringify(redirectUri)} is http on a host other than localhost: Entra accepts http redirect URIs for localhost only (AADSTS500117); register and set the https callback URL the operator's browser reaches (e.g. REDIRECT_URI=https://gateway.contoso.com/auth/callback, docs/identity.md#the-callback-url)`,
        );
    }
    if (authCode?.includes('session_state'))
      env.problem('AUTH_CODE contains "session_state": copy only the value of code= from the redirect URL, without &session_state=...');
  }
  if (!tenantId || !clientId || !credential) return undefined;
  return { tenantId, clientId, credential, flow, ...(authCode ? { authCode: new Secret(authCode) } : {}), ...(redirectUri ? { redirectUri } : {}) };
}

/** Exactly one app credential: a client secret, or a PEM file holding the certificate and its private key. */
function readAppCredential(
  env: EnvReader,
  secret: string | undefined,
  certPath: string | undefined,
): NonNullable<Config['selfDeployed']>['credential'] | undefined {
  if (secret && certPath) {
    env.problem(
      'AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are both set: give exactly one app credential (a client secret, or a PEM file with certificate and private key)',
    );
    return undefined;
  }
  if (secret) return { kind: 'secret', secret: new Secret(secret) };
  if (certPath) {
    const resolved = path.resolve(certPath);
    if (!existsSync(resolved) || !statSync(resolved).isFile()) {
      env.problem(
        `AZURE_CLIENT_CERTIFICATE_PATH=${certPath} does not exist: a PEM file holding your app's certificate and its private key (e.g. AZURE_CLIENT_CERTIFICATE_PATH=/run/secrets/graph-app.pem)`,
      );
      return undefined;
    }
    const pem = readFileSync(resolved, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----') || !/-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem)) {
      env.problem(
        `AZURE_CLIENT_CERTIFICATE_PATH=${certPath} must hold both a PEM certificate and its PEM private key (e.g. cat cert.pem key.pem > graph-app.pem)`,
      );
      return undefined;
    }
    const keyType = privateKeyType(pem);
    // Entra takes certificate assertions signed PS256 (older text: RS256), and msal signs PS256 whatever the
    // key: an EC key started fine and then failed every token request with jsonwebtoken's "alg" error
    // (docs/graph-facts.md#msal-node, "Certificate credentials").
    if (keyType !== undefined && keyType !== 'rsa') {
      env.problem(
        `AZURE_CLIENT_CERTIFICATE_PATH=${certPath} holds an ${keyType.toUpperCase()} private key: Entra takes certificate credentials signed with RSA (PS256 or RS256) only; create an RSA certificate (e.g. openssl req -x509 -newkey rsa:2048 ...) and upload it to the app registration`,
      );
      return undefined;
    }
    return { kind: 'certificate', path: resolved };
  }
  env.problem(
    'AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH is missing: the credential of your Entra app registration (e.g. AZURE_CLIENT_SECRET=<secret value from Certificates & secrets>)',
  );
  return undefined;
}

/** The hosted OAuth broker's "ID, token and key" (hosted mode), or undefined with its problems recorded. */
export function readHosted(env: EnvReader): Config['hosted'] {
  const brokerUrl = env.httpsUrl('BROKER_URL', 'the hosted OAuth broker token URL', 'https://oproxy.example.com/obtain-token');
  const registrationId = env.get('BROKER_ID');
  const token = env.get('BROKER_TOKEN');
  const key = env.get('BROKER_KEY');
  if (!env.get('BROKER_URL'))
    env.problem(
      'BROKER_URL is missing: hosted mode gets Graph tokens from the OAuth broker at this URL (e.g. BROKER_URL=https://oproxy.example.com/obtain-token)',
    );
  if (!registrationId) env.problem('BROKER_ID is missing: hosted mode needs the "ID" the broker consent flow gave you (e.g. BROKER_ID=3f9a...)');
  if (!token) env.problem('BROKER_TOKEN is missing: hosted mode needs the "Token" the broker consent flow gave you (your tenant id)');
  if (!key) env.problem('BROKER_KEY is missing: hosted mode needs the "Key" the broker consent flow gave you (base64, 32 bytes)');
  else if (Buffer.from(key, 'base64').length !== 32)
    env.problem('BROKER_KEY is not valid: the "Key" from the broker consent flow is base64 of 32 bytes (e.g. BROKER_KEY=q1w2e3...=)');
  if (brokerUrl && registrationId && token && key) return { brokerUrl, registrationId, token: new Secret(token), key: new Secret(key) };
  return undefined;
}

/** SIGN_IN_ACCOUNT: the only account /auth/login may sign in (authorization-code flow). */
export function readSignInAccount(env: EnvReader, flow: GraphAuthFlow): string | undefined {
  const signInAccount = env.get('SIGN_IN_ACCOUNT');
  if (signInAccount !== undefined) {
    if (!isGuid(signInAccount) && !/^[^@\s]+@[^@\s]+$/.test(signInAccount))
      env.problem(
        `SIGN_IN_ACCOUNT=${JSON.stringify(signInAccount)} is not valid: the only account /auth/login may sign in, an object id (GUID) or a userPrincipalName (e.g. SIGN_IN_ACCOUNT=gateway-operator@contoso.com)`,
      );
    else if (flow !== 'authorization-code')
      env.problem('SIGN_IN_ACCOUNT is set but GRAPH_AUTH_FLOW is not authorization-code: only the authorization-code flow signs an account in');
  }
  return signInAccount;
}

/**
 * The key type (`rsa`, `ec`, `ed25519`, ...) of the PEM's private key, or undefined when it cannot be read here
 * (an encrypted key: the credential loader refuses it at start with its own message).
 */
function privateKeyType(pem: string): string | undefined {
  const block = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(pem.replace(/\r\n/g, '\n'))?.[0];
  if (!block) return undefined;
  try {
    return createPrivateKey(block).asymmetricKeyType;
  } catch {
    return undefined;
  }
}
