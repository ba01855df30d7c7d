import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, hashApiKey } from '../../src/config.js';
import { configSecrets } from '../../src/config-secrets.js';
import { problemsOf } from '../support/config-problems.js';

const tenantCredentials = {
  AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  AZURE_CLIENT_ID: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f',
  AZURE_CLIENT_SECRET: 'not-a-real-secret',
};
const selfDeployed = { ...tenantCredentials, CALLER_AUTH: 'none' };

describe('loadConfig', () => {
  it('with no configuration runs the sandbox on loopback:4000, self-deployed, no caller auth', () => {
    const config = loadConfig({});
    expect(config.sandbox.enabled).toBe(true);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(config.deploymentMode).toBe('self-deployed');
    expect(config.callerAuth).toEqual({ mode: 'none' });
    expect(config.graphEndpoint).toBe('https://graph.microsoft.com');
  });

  it('serves the federation entry points only with FEDERATION=true', () => {
    expect(loadConfig({}).federation).toBe(false);
    expect(loadConfig({ FEDERATION: 'true' }).federation).toBe(true);
    expect(problemsOf({ FEDERATION: 'yes please' })[0]).toMatch(/^FEDERATION="yes please" is not valid: .*_entities and _service; one of false, true/);
  });

  it('ANSWER_WRITE_GRACE_MS and ANSWER_MIN_BYTES_PER_SECOND: 10 s and 64 KiB/s by default (src/http/answer-writer.ts), bounded', () => {
    expect(loadConfig({}).limits).toMatchObject({ answerWriteGraceMs: 10_000, answerMinBytesPerSecond: 65_536 });
    expect(loadConfig({ ANSWER_WRITE_GRACE_MS: '3000', ANSWER_MIN_BYTES_PER_SECOND: '1048576' }).limits).toMatchObject({
      answerWriteGraceMs: 3000,
      answerMinBytesPerSecond: 1_048_576,
    });
    expect(problemsOf({ ANSWER_MIN_BYTES_PER_SECOND: '0' })).toEqual([expect.stringMatching(/^ANSWER_MIN_BYTES_PER_SECOND/)]);
  });

  it('MAX_RESULT_VALUES_IN_FLIGHT: twice MAX_RESULT_VALUES by default, and never below it (the largest answer could never run)', () => {
    expect(loadConfig({}).limits.maxResultValuesInFlight).toBe(500_000);
    expect(loadConfig({ MAX_RESULT_VALUES: '1000' }).limits.maxResultValuesInFlight).toBe(2000);
    expect(loadConfig({ MAX_RESULT_VALUES_IN_FLIGHT: '250000' }).limits.maxResultValuesInFlight).toBe(250_000);
    expect(problemsOf({ MAX_RESULT_VALUES_IN_FLIGHT: '100000' })).toEqual([
      expect.stringMatching(/^MAX_RESULT_VALUES_IN_FLIGHT \(100000\) is below MAX_RESULT_VALUES \(250000\): .*MAX_RESULT_VALUES_IN_FLIGHT=500000\)$/),
    ]);
  });

  it('refuses CORS_ORIGINS entries that are not origins as browsers send them (they never matched), naming the origin to list', () => {
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    const cases: Array<[string, RegExp]> = [
      ['https://people.contoso.com/', /entry "https:\/\/people.contoso.com\/" is not an origin .*: list "https:\/\/people.contoso.com"$/],
      ['https://people.contoso.com/app', /: list "https:\/\/people.contoso.com"$/],
      ['https://People.Contoso.com', /: list "https:\/\/people.contoso.com"$/],
      ['https://people.contoso.com:443', /: list "https:\/\/people.contoso.com"$/],
      ['people.contoso.com', /: list entries like https:\/\/app.example.com$/],
      ['ftp://people.contoso.com', /: list entries like https:\/\/app.example.com$/],
    ];
    for (const [entry, message] of cases) {
      const problems = problemsOf({ CORS_ORIGINS: `http://localhost:5173,${entry}` });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(message);
    }
  });

  it('refuses "null" in CORS_ORIGINS: every site can send Origin: null (a sandboxed iframe), so it would allow every page', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://people.contoso.com, http://localhost:5173' }).corsOrigins).toEqual([
      'https://people.contoso.com',
      'http://localhost:5173',
    ]);
    // With CALLER_AUTH=none a page on any site read the directory through a sandboxed iframe, with every permission.
    for (const env of <Array<Record<string, string>>>[
      { CORS_ORIGINS: 'null' },
      { CALLER_AUTH: 'api-key', API_KEYS: `soar:${hashApiKey('k')}`, CORS_ORIGINS: 'https://people.contoso.com,null' },
    ]) {
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^CORS_ORIGINS lists "null", which is not one site: .*sandboxed iframes/);
    }
  });

  it('reads TRUSTED_PROXIES as addresses, CIDRs and proxy-addr names, and refuses anything else by name', () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
    const withKeys = { CALLER_AUTH: 'api-key', API_KEYS: `soar:${hashApiKey('k')}` };
    expect(loadConfig({ ...withKeys, TRUSTED_PROXIES: '10.0.0.0/8, loopback ,fd00::/8,192.0.2.10' }).trustedProxies).toEqual([
      '10.0.0.0/8',
      'loopback',
      'fd00::/8',
      '192.0.2.10',
    ]);
    const problems = problemsOf({ ...withKeys, TRUSTED_PROXIES: '10.0.0.0/8,my-ingress,10.0.0.0/33' });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^TRUSTED_PROXIES entry "my-ingress" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal/);
    expect(problems[1]).toMatch(/^TRUSTED_PROXIES entry "10.0.0.0\/33"/);
  });

  it('refuses CALLER_AUTH=none with TRUSTED_PROXIES: behind a proxy every client of it arrives over loopback', () => {
    const cases: Array<Record<string, string>> = [{ TRUSTED_PROXIES: 'loopback' }, { CALLER_AUTH: 'none', TRUSTED_PROXIES: '10.0.0.0/8' }];
    for (const env of cases) {
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^CALLER_AUTH=none with TRUSTED_PROXIES is refused/);
    }
  });

  it('refuses SANDBOX=true beside tenant or broker credentials: the sandbox would ignore them and serve the emulator', () => {
    const problems = problemsOf({
      ...selfDeployed,
      SANDBOX: 'true',
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      CALLER_AUTH: 'api-key',
      API_KEYS: `soar:${hashApiKey('k')}`,
    });
    expect(problems.some((p) => p.startsWith('SANDBOX=true with Microsoft Graph credentials'))).toBe(true);
    expect(problemsOf({ SANDBOX: 'true', BROKER_ID: 'x' }).some((p) => p.startsWith('SANDBOX=true with Microsoft Graph credentials'))).toBe(true);
    // SANDBOX=false with credentials, and credentials alone, are the real tenant.
    expect(loadConfig({ ...selfDeployed, SANDBOX: 'false', CALLER_AUTH: 'none' }).sandbox.enabled).toBe(false);
  });

  it('leaves the sandbox when tenant credentials are given, and picks the cloud hosts', () => {
    const config = loadConfig({ ...selfDeployed, AZURE_CLOUD: 'AzureUSGovernmentDoD' });
    expect(config.sandbox.enabled).toBe(false);
    expect(config.graphEndpoint).toBe('https://dod-graph.microsoft.us');
    expect(config.authorityHost).toBe('https://login.microsoftonline.us');
    expect(config.selfDeployed?.credential.kind).toBe('secret');
    expect(config.selfDeployed?.flow).toBe('client-credentials');
  });

  it('never prints a secret, even when the whole config is serialised', () => {
    const config = loadConfig(selfDeployed);
    expect(JSON.stringify(config)).not.toContain('not-a-real-secret');
    expect(String(config.selfDeployed?.credential.kind === 'secret' ? config.selfDeployed.credential.secret : '')).toBe('[redacted]');
  });

  it('explicit hosts override the cloud, and any https host works, loopback included', () => {
    const config = loadConfig({ ...selfDeployed, AZURE_AUTHORITY_HOST: 'https://127.0.0.1:8443/', GRAPH_ENDPOINT: 'https://127.0.0.1:8443' });
    expect(config.authorityHost).toBe('https://127.0.0.1:8443');
    expect(config.graphEndpoint).toBe('https://127.0.0.1:8443');
  });

  it('GRAPH_ENDPOINT takes the base URL with or without /v1.0 (what Graph docs and npm run emulator show), never another version', () => {
    for (const value of [
      'https://127.0.0.1:8443',
      'https://127.0.0.1:8443/',
      'https://127.0.0.1:8443/v1.0',
      'https://127.0.0.1:8443/v1.0/',
      'https://127.0.0.1:8443/V1.0',
    ]) {
      expect(loadConfig({ ...selfDeployed, GRAPH_ENDPOINT: value }).graphEndpoint, value).toBe('https://127.0.0.1:8443');
    }
    expect(loadConfig({ ...selfDeployed, AZURE_CLOUD: 'AzureUSGovernment', GRAPH_ENDPOINT: 'https://graph.microsoft.us/v1.0' }).graphEndpoint).toBe(
      'https://graph.microsoft.us',
    );
    expect(problemsOf({ ...selfDeployed, GRAPH_ENDPOINT: 'https://graph.microsoft.com/beta' })[0]).toMatch(
      /^GRAPH_ENDPOINT="https:\/\/graph.microsoft.com\/beta" is not valid: the gateway calls Graph v1.0/,
    );
  });

  it('refuses a login host and a Graph host of two national clouds (their tokens are not interchangeable)', () => {
    // Every published pair loads: Global, GCC High (L4) and DoD (L5) sharing login.microsoftonline.us, China.
    for (const [authority, graph] of [
      ['https://login.microsoftonline.com', 'https://graph.microsoft.com'],
      ['https://login.microsoftonline.us', 'https://graph.microsoft.us'],
      ['https://login.microsoftonline.us', 'https://dod-graph.microsoft.us'],
      ['https://login.chinacloudapi.cn', 'https://microsoftgraph.chinacloudapi.cn'],
      ['https://login.partner.microsoftonline.cn', 'https://microsoftgraph.chinacloudapi.cn'],
      ['https://login.usgovcloudapi.net', 'https://graph.microsoft.us'],
    ]) {
      expect(problemsOf({ ...selfDeployed, AZURE_AUTHORITY_HOST: authority!, GRAPH_ENDPOINT: graph! }), `${authority} + ${graph}`).toEqual([]);
    }
    // Two explicit hosts of different clouds.
    const pair = problemsOf({ ...selfDeployed, AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us', GRAPH_ENDPOINT: 'https://graph.microsoft.com' });
    expect(pair).toHaveLength(1);
    expect(pair[0]).toMatch(
      /^GRAPH_ENDPOINT \(Microsoft Graph "https:\/\/graph.microsoft.com", worldwide\) does not match AZURE_AUTHORITY_HOST .*US Government.*not work in another/,
    );
    // One explicit host, the other from the (default) cloud.
    expect(problemsOf({ ...selfDeployed, AZURE_AUTHORITY_HOST: 'https://login.chinacloudapi.cn' })[0]).toMatch(
      /^AZURE_CLOUD=AzurePublic \(Microsoft Graph "https:\/\/graph.microsoft.com", worldwide\) does not match AZURE_AUTHORITY_HOST/,
    );
    expect(problemsOf({ ...selfDeployed, GRAPH_ENDPOINT: 'https://dod-graph.microsoft.us' })[0]).toMatch(
      /^GRAPH_ENDPOINT .* does not match AZURE_CLOUD=AzurePublic \(sign-in "https:\/\/login.microsoftonline.com", worldwide\)/,
    );
    // An explicit AZURE_CLOUD contradicted by an explicit host.
    expect(problemsOf({ ...selfDeployed, AZURE_CLOUD: 'AzureChina', AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com' })[0]).toMatch(
      /^AZURE_AUTHORITY_HOST="https:\/\/login.microsoftonline.com" is not valid with AZURE_CLOUD=AzureChina: it is the worldwide sign-in host/,
    );
    expect(problemsOf({ ...selfDeployed, AZURE_CLOUD: 'AzureUSGovernment', GRAPH_ENDPOINT: 'https://dod-graph.microsoft.us' })[0]).toMatch(
      /^GRAPH_ENDPOINT="https:\/\/dod-graph.microsoft.us" is not valid with AZURE_CLOUD=AzureUSGovernment: .*GRAPH_ENDPOINT=https:\/\/graph.microsoft.us/,
    );
    // Hosted mode gets Graph tokens from the broker: its login host only verifies callers.
    const hosted = {
      DEPLOYMENT_MODE: 'hosted',
      BROKER_URL: 'https://broker.example/obtain-token',
      BROKER_ID: 'id',
      BROKER_TOKEN: 'tenant',
      BROKER_KEY: Buffer.alloc(32, 7).toString('base64'),
      TOKEN_CACHE_KEY: 'x'.repeat(32),
      CALLER_AUTH: 'none',
    };
    expect(problemsOf({ ...hosted, AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us' })).toEqual([]);
    // Hosts Microsoft does not publish (an emulator, a proxy) are never compared.
    expect(
      problemsOf({ ...selfDeployed, AZURE_CLOUD: 'AzureChina', AZURE_AUTHORITY_HOST: 'https://127.0.0.1:8443', GRAPH_ENDPOINT: 'https://graph.internal' }),
    ).toEqual([]);
    expect(problemsOf({ ...selfDeployed, AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us', GRAPH_ENDPOINT: 'https://127.0.0.1:8443' })).toEqual([]);
  });

  it('DRAIN_TIMEOUT_MS bounds the shutdown drain (default 8 s); PLAYGROUND defaults off only in production', () => {
    expect(loadConfig({}).drainTimeoutMs).toBe(8_000);
    expect(loadConfig({ DRAIN_TIMEOUT_MS: '25000' }).drainTimeoutMs).toBe(25_000);
    expect(problemsOf({ DRAIN_TIMEOUT_MS: 'soon' })[0]).toMatch(/^DRAIN_TIMEOUT_MS="soon" is not valid/);
    expect(loadConfig({}).playground).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', SANDBOX: 'true' }).playground).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', SANDBOX: 'true', PLAYGROUND: 'true' }).playground).toBe(true);
    expect(problemsOf({ PLAYGROUND: 'maybe' })[0]).toMatch(/^PLAYGROUND="maybe" is not valid/);
  });

  it('names the variable, its purpose and an example for every problem, all at once', () => {
    const problems = problemsOf({ AZURE_TENANT_ID: 'common', PORT: 'eighty', AZURE_CLOUD: 'Mars', GRAPH_ENDPOINT: 'http://graph' });
    expect(problems.some((p) => p.startsWith('AZURE_TENANT_ID=common') && p.includes('e.g.'))).toBe(true);
    expect(problems.some((p) => p.startsWith('AZURE_CLIENT_ID is missing') && p.includes('e.g.'))).toBe(true);
    expect(problems.some((p) => p.startsWith('AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH is missing'))).toBe(true);
    expect(problems.some((p) => p.startsWith('PORT="eighty"'))).toBe(true);
    expect(problems.some((p) => p.startsWith('AZURE_CLOUD="Mars"') && p.includes('AzureUSGovernment'))).toBe(true);
    expect(problems.some((p) => p.startsWith('GRAPH_ENDPOINT=') && p.includes('https'))).toBe(true);
  });

  it('hosted mode without BROKER_KEY says what the key is', () => {
    const problems = problemsOf({
      DEPLOYMENT_MODE: 'hosted',
      BROKER_URL: 'https://broker.example/obtain-token',
      BROKER_ID: 'id',
      BROKER_TOKEN: 'tenant',
      TOKEN_CACHE_KEY: 'x'.repeat(32),
      CALLER_AUTH: 'none',
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^BROKER_KEY is missing: .*"Key"/);
  });

  it('refuses a certificate path that does not exist, and one without a private key', () => {
    expect(problemsOf({ ...selfDeployed, AZURE_CLIENT_SECRET: '', AZURE_CLIENT_CERTIFICATE_PATH: '/nonexistent/app.pem' })[0]).toMatch(
      /^AZURE_CLIENT_CERTIFICATE_PATH=\/nonexistent\/app.pem does not exist/,
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const certOnly = path.join(dir, 'cert.pem');
    writeFileSync(certOnly, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(problemsOf({ ...selfDeployed, AZURE_CLIENT_SECRET: '', AZURE_CLIENT_CERTIFICATE_PATH: certOnly })[0]).toMatch(/private key/);
  });

  // learn.microsoft.com/entra/identity-platform/certificate-credentials: the assertion's alg is PS256 (older
  // text: RS256), both RSA; msal signs PS256 whatever the key, so an EC key used to start and then fail every
  // token request with UPSTREAM_ERROR (docs/graph-facts.md#msal-node).
  it('refuses a certificate whose private key is not RSA (EC, Ed25519), at start; takes an RSA one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const certBlock = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const pemWith = (name: string, key: string) => {
      const file = path.join(dir, name);
      writeFileSync(file, `${certBlock}${key}`);
      return file;
    };
    const pkcs8 = (type: 'ec' | 'ed25519' | 'rsa') =>
      (type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ed25519')
      ).privateKey
        .export({ format: 'pem', type: 'pkcs8' })
        .toString();
    const ecSec1 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'sec1' }).toString();
    for (const [name, key, type] of [
      ['ec.pem', pkcs8('ec'), 'EC'],
      ['ec-sec1.pem', ecSec1, 'EC'],
      ['ed.pem', pkcs8('ed25519'), 'ED25519'],
    ] as const) {
      const problems = problemsOf({ ...selfDeployed, AZURE_CLIENT_SECRET: '', AZURE_CLIENT_CERTIFICATE_PATH: pemWith(name, key) });
      expect(problems, name).toHaveLength(1);
      expect(problems[0]).toMatch(
        new RegExp(`^AZURE_CLIENT_CERTIFICATE_PATH=.*${name} holds an ${type} private key: Entra takes certificate credentials signed with RSA`),
      );
    }
    expect(problemsOf({ ...selfDeployed, AZURE_CLIENT_SECRET: '', AZURE_CLIENT_CERTIFICATE_PATH: pemWith('rsa.pem', pkcs8('rsa')) })).toEqual([]);
  });

  it('refuses both a secret and a certificate', () => {
    expect(problemsOf({ ...selfDeployed, AZURE_CLIENT_CERTIFICATE_PATH: '/x.pem' })[0]).toMatch(/exactly one app credential/);
  });

  it('refuses CALLER_AUTH=none on a non-loopback HOST', () => {
    const problems = problemsOf({ HOST: '0.0.0.0' });
    expect(problems[0]).toMatch(/^CALLER_AUTH=none with HOST=0.0.0.0 is refused/);
    expect(problemsOf({ HOST: '::1' })).toEqual([]);
  });

  it('requires API_AUDIENCE for entra caller auth and well-formed API_KEYS', () => {
    expect(problemsOf({ CALLER_AUTH: 'entra' })[0]).toMatch(/^API_AUDIENCE is missing/);
    expect(problemsOf({ CALLER_AUTH: 'api-key', API_KEYS: 'bot:nothex' })[0]).toMatch(/^API_KEYS entry 1 of 1 is not valid/);
    expect(problemsOf({ CALLER_AUTH: 'api-key', API_KEYS: `bot:${hashApiKey('k')}:Users.Fly` })[0]).toMatch(/unknown permission "Users.Fly"/);
    const config = loadConfig({ CALLER_AUTH: 'api-key', API_KEYS: `bot:${hashApiKey('k')}:Users.Read+Users.Terminate` });
    expect(config.callerAuth.mode === 'api-key' && [...config.callerAuth.keys[0]!.permissions]).toEqual(['Users.Read', 'Users.Terminate']);
  });

  it('refuses one key listed twice, and one name with different permissions; one name on two keys with the same permissions is a rotation (docs/identity.md#api-keys)', () => {
    // Before: the key authenticated as "reader" alone, and "admin"'s Gateway.Admin was silently never granted.
    const twice = problemsOf({ CALLER_AUTH: 'api-key', API_KEYS: `reader:${hashApiKey('k')}:Users.Read,admin:${hashApiKey('k')}:Gateway.Admin` });
    expect(twice).toEqual(['API_KEYS entries "reader" and "admin" hold the same key (one SHA-256): list each key once']);
    const renamed = problemsOf({
      CALLER_AUTH: 'api-key',
      API_KEYS: `soar:${hashApiKey('old')}:Users.Read,soar:${hashApiKey('new')}:Users.Read+Users.Terminate`,
    });
    expect(renamed).toHaveLength(1);
    expect(renamed[0]).toMatch(/^API_KEYS entries named "soar" hold different permissions/);
    expect(twice.concat(renamed).join('')).not.toMatch(/[0-9a-f]{64}/);
    const rotation = loadConfig({
      CALLER_AUTH: 'api-key',
      API_KEYS: `soar:${hashApiKey('old')}:Users.Terminate+Users.Read,soar:${hashApiKey('new')}:Users.Read+Users.Terminate`,
    });
    expect(rotation.callerAuth.mode === 'api-key' && rotation.callerAuth.keys.map((k) => k.id)).toEqual(['soar', 'soar']);
  });

  it('reads API_AUDIENCE as a comma-separated list of App ID URIs and client ids', () => {
    const config = loadConfig({
      CALLER_AUTH: 'entra',
      API_AUDIENCE: ' api://contoso-gateway/ , 0B4C2F5E-1D2A-4C3B-9E8F-7A6B5C4D3E2F,https://contoso.com/gateway,api://contoso-gateway',
    });
    expect(config.callerAuth).toEqual({
      mode: 'entra',
      audiences: ['api://contoso-gateway', '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f', 'https://contoso.com/gateway'],
    });
    expect(problemsOf({ CALLER_AUTH: 'entra', API_AUDIENCE: 'api://contoso-gateway/.default' })[0]).toMatch(/is a scope, not an audience/);
    expect(problemsOf({ CALLER_AUTH: 'entra', API_AUDIENCE: 'contoso gateway' })[0]).toMatch(/^API_AUDIENCE entry "contoso gateway" is not valid/);
  });

  it('needs TOKEN_CACHE_KEY where refresh tokens are persisted, and refuses an auth code with session_state', () => {
    const problems = problemsOf({
      ...selfDeployed,
      GRAPH_AUTH_FLOW: 'authorization-code',
      REDIRECT_URI: 'http://localhost:4000/auth/callback',
      AUTH_CODE: 'abc&session_state=x',
    });
    expect(problems.some((p) => p.startsWith('TOKEN_CACHE_KEY is missing'))).toBe(true);
    expect(problems.some((p) => p.startsWith('AUTH_CODE contains "session_state"'))).toBe(true);
    expect(problems.every((p) => !p.includes('abc&session_state'))).toBe(true);
  });

  it('refuses a REDIRECT_URI that Entra never accepts: http on a host other than localhost, 127.0.0.1 or [::1]', () => {
    // Entra answers AADSTS500117 at the first sign-in (docs/graph-facts.md#redirect-uris); the
    // operator learns it at start-up (and from `npm run doctor`) instead.
    const authCode = { ...selfDeployed, GRAPH_AUTH_FLOW: 'authorization-code', TOKEN_CACHE_KEY: Buffer.alloc(32, 5).toString('base64') };
    for (const uri of ['http://gateway.contoso.com/auth/callback', 'http://app.localhost:4000/auth/callback', 'http://10.0.0.7:4000/auth/callback']) {
      expect(problemsOf({ ...authCode, REDIRECT_URI: uri }), uri).toEqual([
        expect.stringMatching(
          /^REDIRECT_URI=".*" is http on a host other than localhost: Entra accepts http redirect URIs for localhost only \(AADSTS500117\); .*https/,
        ),
      ]);
    }
    for (const uri of [
      'http://localhost:4000/auth/callback',
      'http://127.0.0.1:4000/auth/callback',
      'http://[::1]:4000/auth/callback',
      'https://gateway.contoso.com/auth/callback',
    ]) {
      expect(problemsOf({ ...authCode, REDIRECT_URI: uri }), uri).toEqual([]);
    }
  });

  it('parses CACHE_URL kinds', () => {
    expect(loadConfig({ CACHE_URL: 'redis://127.0.0.1:6379' }).cache).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6379' });
    expect(loadConfig({ CACHE_URL: 'sqlite://./x.db' }).cache).toMatchObject({ kind: 'sqlite' });
    expect(problemsOf({ CACHE_URL: 'ftp://x' })[0]).toMatch(/^CACHE_URL="ftp:\/\/x" is not valid/);
  });

  it('reads the previous keys of a rotation only beside a current one, with the same length rules, and counts them as secrets', () => {
    const cursorOld = Buffer.alloc(32, 1).toString('base64');
    const cursorNew = Buffer.alloc(32, 2).toString('base64');
    const config = loadConfig({
      TOKEN_CACHE_KEY: 'the new token cache key',
      TOKEN_CACHE_KEY_PREVIOUS: 'the old token cache key',
      CURSOR_KEY: cursorNew,
      CURSOR_KEY_PREVIOUS: cursorOld,
    });
    expect(config.tokenCacheKeyPrevious?.reveal()).toBe('the old token cache key');
    expect(config.cursorKeyPrevious?.reveal()).toBe(cursorOld);
    expect(configSecrets(config)).toEqual(expect.arrayContaining(['the new token cache key', 'the old token cache key', cursorNew, cursorOld]));
    expect(JSON.stringify(config)).not.toContain('the old token cache key');

    expect(problemsOf({ TOKEN_CACHE_KEY_PREVIOUS: 'the old token cache key' })[0]).toMatch(/^TOKEN_CACHE_KEY_PREVIOUS is set without TOKEN_CACHE_KEY/);
    expect(problemsOf({ CURSOR_KEY_PREVIOUS: cursorOld })[0]).toMatch(/^CURSOR_KEY_PREVIOUS is set without CURSOR_KEY/);
    expect(problemsOf({ TOKEN_CACHE_KEY: 'the new token cache key', TOKEN_CACHE_KEY_PREVIOUS: 'short' })[0]).toMatch(/^TOKEN_CACHE_KEY_PREVIOUS is too short/);
    expect(problemsOf({ CURSOR_KEY: cursorNew, CURSOR_KEY_PREVIOUS: 'c2hvcnQ=' })[0]).toMatch(/^CURSOR_KEY_PREVIOUS is too short/);
    // A previous key equal to the current one is no rotation: nothing more to try.
    expect(loadConfig({ CURSOR_KEY: cursorNew, CURSOR_KEY_PREVIOUS: cursorNew }).cursorKeyPrevious).toBeUndefined();
  });

  it('names a mistyped CACHE_URL without its password', () => {
    const [problem] = problemsOf({ CACHE_URL: 'reds://:s3cret-redis-pass@cache.internal:6380' });
    expect(problem).toMatch(/^CACHE_URL="reds:\/\/\[redacted\]@cache.internal:6380" is not valid/);
    expect(problem).not.toContain('s3cret');
  });
});

describe('safe defaults (production configuration)', () => {
  it('refuses a real tenant without CALLER_AUTH, naming the choices', () => {
    for (const env of [tenantCredentials, { ...tenantCredentials, NODE_ENV: 'production' }]) {
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^CALLER_AUTH is missing/);
      for (const choice of ['CALLER_AUTH=api-key', 'CALLER_AUTH=entra', 'CALLER_AUTH=none']) expect(problems[0]).toContain(choice);
    }
    expect(loadConfig({ ...tenantCredentials, NODE_ENV: 'production', CALLER_AUTH: 'none' }).callerAuth).toEqual({ mode: 'none' });
    // Command-line tools (auth:reset, auth:login-url, doctor) read the configuration but serve no caller.
    expect(loadConfig(tenantCredentials, { purpose: 'tool' }).selfDeployed?.tenantId).toBe(tenantCredentials.AZURE_TENANT_ID);
  });

  it('hosted mode without CALLER_AUTH is refused too', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      BROKER_URL: 'https://broker.example/obtain-token',
      BROKER_ID: 'id',
      BROKER_TOKEN: 'tenant',
      BROKER_KEY: Buffer.alloc(32, 1).toString('base64'),
      TOKEN_CACHE_KEY: 'x'.repeat(32),
    });
    expect(problems).toEqual([expect.stringMatching(/^CALLER_AUTH is missing/)]);
  });

  it('NODE_ENV=production with empty Azure variables fails clearly instead of starting the sandbox', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      AZURE_TENANT_ID: '',
      AZURE_CLIENT_ID: '',
      AZURE_CLIENT_SECRET: '',
      HOST: '0.0.0.0',
      CALLER_AUTH: 'api-key',
      API_KEYS: `a:${hashApiKey('k')}`,
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^No Microsoft Graph credentials are set and NODE_ENV=production never starts the sandbox/);
    expect(problems[0]).toContain('SANDBOX=true');
    expect(problems[0]).toContain('AZURE_TENANT_ID');
  });

  it('NODE_ENV=production starts the sandbox only when SANDBOX=true is explicit; development keeps the no-configuration sandbox', () => {
    const config = loadConfig({ NODE_ENV: 'production', SANDBOX: 'true' });
    expect(config.sandbox.enabled).toBe(true);
    expect(config.callerAuth).toEqual({ mode: 'none' });
    expect(loadConfig({}).sandbox.enabled).toBe(true);
  });

  it('SIGN_IN_ACCOUNT takes an object id or a UPN, only with the authorization-code flow', () => {
    const authCode = {
      ...selfDeployed,
      GRAPH_AUTH_FLOW: 'authorization-code',
      REDIRECT_URI: 'http://localhost:4000/auth/callback',
      TOKEN_CACHE_KEY: 'x'.repeat(32),
    };
    expect(loadConfig({ ...authCode, SIGN_IN_ACCOUNT: 'ops@contoso.com' }).signInAccount).toBe('ops@contoso.com');
    expect(loadConfig({ ...authCode, SIGN_IN_ACCOUNT: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f' }).signInAccount).toBe('0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f');
    expect(problemsOf({ ...authCode, SIGN_IN_ACCOUNT: 'ops' })[0]).toMatch(/^SIGN_IN_ACCOUNT="ops" is not valid/);
    expect(problemsOf({ ...selfDeployed, SIGN_IN_ACCOUNT: 'ops@contoso.com' })[0]).toMatch(/GRAPH_AUTH_FLOW is not authorization-code/);
  });

  it('failed-authentication limits have defaults and bounds', () => {
    expect(loadConfig({}).authFailures).toEqual({ limit: 10, windowSeconds: 300 });
    expect(loadConfig({ AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_WINDOW_SECONDS: '60' }).authFailures).toEqual({ limit: 3, windowSeconds: 60 });
    expect(problemsOf({ AUTH_FAILURE_LIMIT: '0' })[0]).toMatch(/^AUTH_FAILURE_LIMIT="0" is not valid/);
  });
});

describe('loadConfig and proxy credentials', () => {
  it('does not echo a malformed HTTPS_PROXY, which may hold credentials', () => {
    const problems = problemsOf({ HTTPS_PROXY: 'socks://user:s3cret-proxy-pass@proxy' });
    expect(problems[0]).toMatch(/^HTTPS_PROXY is not an http\(s\) URL/);
    expect(problems.join('\n')).not.toContain('s3cret-proxy-pass');
  });
});
