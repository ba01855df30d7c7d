import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { startApp, type App } from '../../src/app.js';
import { CONFIG_VARIABLES, hashApiKey, loadConfig } from '../../src/config.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, SHUTDOWN_CLOSE_MARGIN_MS } from '../../src/gateway.js';
import { READINESS_PROBE_TIMEOUT_MS } from '../../src/http/readiness.js';
import { createLogger } from '../../src/logger.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

/**
 * The Kubernetes manifests in deploy/ (docs/operations.md#kubernetes) agree with the code: every
 * variable they set is one the configuration reads, every probe path is served by the production
 * app, the grace period covers the drain and the close margin, the memory limit the image's heap
 * cap, selectors select the pods, and every container runs non-root on a read-only root.
 */
const ROOT = path.resolve(__dirname, '../..');
const DEPLOY = path.join(ROOT, 'deploy');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [key: string]: any };

const files = readdirSync(DEPLOY).filter((f) => f.endsWith('.yaml'));
const manifests: Manifest[] = files
  .filter((f) => f !== 'kustomization.yaml')
  .flatMap((f) =>
    parseAllDocuments(readFileSync(path.join(DEPLOY, f), 'utf8')).map((doc) => {
      expect(doc.errors, f).toEqual([]);
      return doc.toJS() as Manifest;
    }),
  );
const find = (kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`deploy/ has no ${kind} ${name}`);
  return found;
};

const gateway = find('Deployment', 'msgraph-user-gateway');
const podSpec = gateway.spec.template.spec;
const container = podSpec.containers.find((c: { name: string }) => c.name === 'gateway');
const secret = find('Secret', 'msgraph-user-gateway');

/** Every variable the gateway container gets, with the value the manifests give it. */
function manifestEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, find('ConfigMap', source.configMapRef.name).data);
    else if (source.secretRef) {
      const s = find('Secret', source.secretRef.name);
      Object.assign(
        env,
        s.stringData,
        Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')])),
      );
    } else throw new Error(`unexpected envFrom ${JSON.stringify(source)}`);
  }
  for (const entry of container.env ?? []) env[entry.name] = entry.value ?? '';
  return env;
}

/** The heap cap of the image: `--max-old-space-size` of NODE_OPTIONS in docker/Dockerfile, in bytes. */
function imageHeapCapBytes(): number {
  const dockerfile = readFileSync(path.join(ROOT, 'docker/Dockerfile'), 'utf8');
  const mb = /NODE_OPTIONS=--max-old-space-size=(\d+)/.exec(dockerfile)?.[1];
  if (!mb) throw new Error('docker/Dockerfile sets no --max-old-space-size');
  return Number(mb) * 1024 * 1024;
}

function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
  if (!match) throw new Error(`unparsed memory quantity ${quantity}`);
  const factor = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * factor;
}

// Valid stand-ins for the Secret's placeholders, and the test's own address, cache and sandbox tenant.
const API_KEY = 'manifest-probe-key-7c1e0b94';
const testOverrides = (dataDir: string): Record<string, string> => ({
  NODE_ENV: 'production',
  SANDBOX: 'true',
  HOST: '127.0.0.1',
  PORT: '0',
  // The manifests' METRICS_PORT (9464), on a free port here.
  METRICS_PORT: '0',
  DATA_DIR: dataDir,
  CACHE_URL: 'memory',
  API_KEYS: `probe:${hashApiKey(API_KEY)}:Users.Read`,
  TOKEN_CACHE_KEY: Buffer.alloc(32, 7).toString('base64'),
  CURSOR_KEY: Buffer.alloc(32, 9).toString('base64'),
});

describe('deploy/ manifests', () => {
  it('are all listed in kustomization.yaml', () => {
    const kustomization = parseYaml(readFileSync(path.join(DEPLOY, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml').sort());
  });

  it('set only variables src/config.ts reads, and this configuration reads every one of them', () => {
    const env = manifestEnvironment();
    const names = Object.keys(env);
    expect(names.length).toBeGreaterThan(10);
    const known = new Set<string>(CONFIG_VARIABLES);
    expect(names.filter((n) => !known.has(n))).toEqual([]);

    // loadConfig over the manifests' own values (the Secret's placeholders replaced, the sandbox in
    // place of the tenant): every variable they name is looked at, none is dead weight.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-deploy-'));
    try {
      const overrides = testOverrides(dataDir);
      const values: Record<string, string> = { ...env, ...overrides };
      for (const name of ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET']) delete values[name];
      const read = new Set<string>();
      const recording = new Proxy(values, {
        get(target, key) {
          if (typeof key === 'string') read.add(key);
          return Reflect.get(target, key);
        },
      });
      const config = loadConfig(recording);
      expect(names.filter((n) => !read.has(n))).toEqual([]);
      expect(config.callerAuth.mode).toBe('api-key');
      expect(config.drainTimeoutMs).toBe(Number(env.DRAIN_TIMEOUT_MS));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('the Secret holds placeholders only: applied unchanged, the gateway refuses to start and names them', () => {
    const env = { ...manifestEnvironment(), NODE_ENV: 'production' };
    let message = '';
    try {
      loadConfig(env);
    } catch (error) {
      message = (error as Error).message;
    }
    // A placeholder that passed for a key would encrypt every token with a key anyone can read here.
    for (const name of ['TOKEN_CACHE_KEY', 'CURSOR_KEY', 'API_KEYS', 'AZURE_CLIENT_ID', 'CACHE_URL']) expect(message).toContain(`- ${name}`);
    for (const value of Object.values(secret.stringData as Record<string, string>)) expect(value === '' || value.startsWith('REPLACE')).toBe(true);
  });

  it('give a grace period that covers the preStop pause, DRAIN_TIMEOUT_MS and the close margin before the hard exit', () => {
    const drainMs = Number(manifestEnvironment().DRAIN_TIMEOUT_MS ?? DEFAULT_DRAIN_TIMEOUT_MS);
    const preStop = container.lifecycle?.preStop?.exec?.command as string[] | undefined;
    expect(preStop?.[0]).toBe('sleep');
    const preStopMs = Number(preStop![1]) * 1000;
    expect(preStopMs).toBeGreaterThan(0);
    expect(podSpec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(preStopMs + drainMs + SHUTDOWN_CLOSE_MARGIN_MS);
  });

  it("time the gateway's probes against the app and the drain: every timeout explicit, readiness longer than the gateway's own probe round, liveness never killing a drain", () => {
    // timeoutSeconds defaults to 1 s (kubernetes.io, Configure Liveness, Readiness and Startup
    // Probes): on a node busy starting pods, one slow answer of a healthy process fails the probe.
    for (const deployment of manifests.filter((m) => m.kind === 'Deployment'))
      for (const c of deployment.spec.template.spec.containers)
        for (const name of ['livenessProbe', 'readinessProbe', 'startupProbe'].filter((n) => c[n])) {
          expect(c[name].timeoutSeconds, `${deployment.metadata.name}/${c.name} ${name}`).toBeGreaterThanOrEqual(2);
          // The kubelet waits for one probe before the next: a timeout beyond the period would stretch
          // the detection time the period promises.
          expect(c[name].periodSeconds, `${deployment.metadata.name}/${c.name} ${name}`).toBeGreaterThanOrEqual(c[name].timeoutSeconds);
        }
    // /readyz answers "not ready" with its reason after at most READINESS_PROBE_TIMEOUT_MS (Entra or
    // Graph hanging); a kubelet timeout no longer than that would cut the answer off and report
    // "context deadline exceeded" instead of the reason.
    expect(container.readinessProbe.timeoutSeconds * 1000).toBeGreaterThan(READINESS_PROBE_TIMEOUT_MS);
    // The listener closes at SIGTERM, after the preStop pause; from then on /healthz is refused. The
    // first refused liveness probe may come at once: the failures that restart the container must
    // take longer than the drain and its close margin.
    const drainMs = Number(manifestEnvironment().DRAIN_TIMEOUT_MS ?? DEFAULT_DRAIN_TIMEOUT_MS);
    const liveness = container.livenessProbe;
    expect((liveness.failureThreshold - 1) * liveness.periodSeconds * 1000).toBeGreaterThanOrEqual(drainMs + SHUTDOWN_CLOSE_MARGIN_MS);
    // The startup probe gives the start (schema, stores, the first Graph token) a minute.
    expect(container.startupProbe.failureThreshold * container.startupProbe.periodSeconds).toBeGreaterThanOrEqual(60);
  });

  it('spread the gateway pods over nodes and zones, and never run two in-memory Redis instances behind one Service', () => {
    const podLabels = gateway.spec.template.metadata.labels as Record<string, string>;
    const spread = podSpec.topologySpreadConstraints as Array<{ topologyKey: string; maxSkew: number; labelSelector: { matchLabels: Record<string, string> } }>;
    // Over nodes and, where the cluster has them, zones; ScheduleAnyway, so a single-node or single-zone cluster still schedules.
    for (const key of ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']) {
      const constraint = spread.find((c) => c.topologyKey === key) as (typeof spread)[number] & { whenUnsatisfiable: string };
      expect(constraint?.maxSkew, key).toBe(1);
      expect(constraint.whenUnsatisfiable).toBe('ScheduleAnyway');
      expect(Object.entries(constraint.labelSelector.matchLabels).every(([k, v]) => podLabels[k] === v)).toBe(true);
    }
    // A rolling update would start the new Redis (empty: no persistence) beside the old one, both
    // ready behind the Service: replicas reconnecting meanwhile would split the failed-authentication
    // counts and containment records between two instances. Recreate stops the old one first
    // (kubernetes.io, Deployments, "Recreate Deployment").
    const redis = find('Deployment', 'msgraph-user-gateway-redis');
    expect(redis.spec.replicas).toBe(1);
    expect(redis.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('give the gateway a memory limit of at least twice the heap cap of the image, and CPU requests for the autoscaler', () => {
    const heapCap = imageHeapCapBytes();
    const limit = quantityBytes(container.resources.limits.memory);
    const request = quantityBytes(container.resources.requests.memory);
    expect(limit).toBeGreaterThanOrEqual(2 * heapCap);
    expect(request).toBeGreaterThan(heapCap);
    expect(request).toBeLessThanOrEqual(limit);
    expect(container.resources.requests.cpu).toBeTruthy();
    const hpa = find('HorizontalPodAutoscaler', 'msgraph-user-gateway');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: gateway.metadata.name });
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
  });

  it('select the pods they mean: Service, PodDisruptionBudget, NetworkPolicy; named ports exist', () => {
    const podLabels = (deployment: Manifest) => deployment.spec.template.metadata.labels as Record<string, string>;
    const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(selects(gateway.spec.selector.matchLabels, podLabels(gateway))).toBe(true);
    const service = find('Service', 'msgraph-user-gateway');
    expect(selects(service.spec.selector, podLabels(gateway))).toBe(true);
    const portNames = (container.ports as Array<{ name: string; containerPort: number }>).map((p) => p.name);
    expect(portNames).toContain(service.spec.ports[0].targetPort);
    expect(container.ports[0].containerPort).toBe(Number(manifestEnvironment().PORT));
    // /metrics has a port of its own, on the pod only: the Service (and so an ingress) never routes it.
    const metricsPort = (container.ports as Array<{ name: string; containerPort: number }>).find((p) => p.name === 'metrics');
    expect(metricsPort?.containerPort).toBe(Number(manifestEnvironment().METRICS_PORT));
    expect((service.spec.ports as Array<{ targetPort: string | number }>).map((p) => p.targetPort)).not.toContain('metrics');
    expect((service.spec.ports as Array<{ targetPort: string | number }>).map((p) => p.targetPort)).not.toContain(metricsPort?.containerPort);
    expect(gateway.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(metricsPort?.containerPort));
    // The same ports as the image's own ENV (docker/Dockerfile): the ConfigMap repeats them, never moves them.
    const dockerfile = readFileSync(path.join(ROOT, 'docker/Dockerfile'), 'utf8');
    expect(/^\s*METRICS_PORT=(\d+)/m.exec(dockerfile)?.[1]).toBe(manifestEnvironment().METRICS_PORT);
    expect(/^\s*PORT=(\d+)/m.exec(dockerfile)?.[1]).toBe(manifestEnvironment().PORT);
    const pdb = find('PodDisruptionBudget', 'msgraph-user-gateway');
    expect(selects(pdb.spec.selector.matchLabels, podLabels(gateway))).toBe(true);
    expect(pdb.spec.maxUnavailable ?? 0).toBeLessThan(gateway.spec.replicas);

    const redis = find('Deployment', 'msgraph-user-gateway-redis');
    const redisService = find('Service', 'msgraph-user-gateway-redis');
    expect(selects(redisService.spec.selector, podLabels(redis))).toBe(true);
    // CACHE_URL names that Service and port with the Redis password (a placeholder until replaced).
    const cacheUrl = new URL(manifestEnvironment().CACHE_URL!.replace(/^REPLACE-/, ''));
    expect(`${cacheUrl.protocol}//${cacheUrl.host}`).toBe(`redis://${redisService.metadata.name}:${redisService.spec.ports[0].port}`);
    expect(cacheUrl.password).not.toBe('');
    const policy = find('NetworkPolicy', 'msgraph-user-gateway-redis');
    expect(selects(policy.spec.podSelector.matchLabels, podLabels(redis))).toBe(true);
    expect(selects(policy.spec.ingress[0].from[0].podSelector.matchLabels, podLabels(gateway))).toBe(true);
    // A full Redis refuses writes rather than evicting spent sign-in links and failure counts (docs/operations.md#redis).
    const redisArgs: string[] = redis.spec.template.spec.containers[0].args;
    expect(redisArgs[redisArgs.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    // Redis opens no connection of its own (no replication, no persistence): Egress without rules
    // denies any it would open, replies to the gateway's connections still flow (kubernetes.io,
    // NetworkPolicySpec: an empty egress list limits all outgoing traffic).
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.egress ?? []).toEqual([]);
  });

  it("admit the gateway's ports only from the ingress controller (http) and the scraper (metrics), never from every pod", () => {
    // TRUSTED_PROXIES is in practice the pod network: any pod reaching the gateway directly could
    // write the client address the failed-authentication limit counts (docs/security.md#client-address).
    const podLabels = gateway.spec.template.metadata.labels as Record<string, string>;
    const policies = manifests.filter(
      (m) => m.kind === 'NetworkPolicy' && Object.entries(m.spec.podSelector.matchLabels as Record<string, string>).every(([k, v]) => podLabels[k] === v),
    );
    expect(policies.map((p) => p.metadata.name)).toEqual(['msgraph-user-gateway']);
    const policy = policies[0]!;
    expect(policy.spec.policyTypes).toContain('Ingress');
    type Rule = { from?: Array<Record<string, unknown>>; ports?: Array<{ port: string | number }> };
    const rules = policy.spec.ingress as Rule[];
    const portNames = (container.ports as Array<{ name: string }>).map((p) => p.name);
    for (const rule of rules) {
      // A rule without `from` (or with an empty selector) admits every pod; one without `ports` every port.
      expect(rule.from?.length ?? 0).toBeGreaterThan(0);
      for (const peer of rule.from!) {
        expect(Object.keys(peer).length).toBeGreaterThan(0);
        for (const selector of Object.values(peer) as Array<{ matchLabels?: Record<string, string> }>)
          expect(Object.keys(selector.matchLabels ?? {}).length).toBeGreaterThan(0);
      }
      expect(rule.ports?.length ?? 0).toBeGreaterThan(0);
      for (const { port } of rule.ports!) expect(portNames).toContain(port);
    }
    const peersOf = (port: string) => rules.filter((r) => r.ports!.some((p) => p.port === port)).map((r) => JSON.stringify(r.from));
    expect(peersOf('http')).toHaveLength(1);
    expect(peersOf('metrics')).toHaveLength(1);
    // The scraper is not the ingress: /metrics stays off the public path even if the ingress routed the pod port.
    expect(peersOf('metrics')[0]).not.toBe(peersOf('http')[0]);
  });

  it('give the in-cluster Redis a password from a Secret, which its probe and the gateway use', () => {
    // Without one, any pod where NetworkPolicies are not enforced could reset failure counts, forget
    // spent sign-in links or put back older token records (docs/operations.md#redis).
    const redis = find('Deployment', 'msgraph-user-gateway-redis').spec.template.spec.containers[0];
    const redisArgs: string[] = redis.args;
    expect(redisArgs[redisArgs.indexOf('--requirepass') + 1]).toBe('$(REDIS_PASSWORD)');
    const fromSecret = (name: string) => (redis.env as Array<{ name: string; valueFrom?: any }>).find((e) => e.name === name)?.valueFrom?.secretKeyRef;
    // REDIS_PASSWORD for the server (Kubernetes expands $(REDIS_PASSWORD) in args), REDISCLI_AUTH for redis-cli's ping.
    for (const name of ['REDIS_PASSWORD', 'REDISCLI_AUTH']) expect(fromSecret(name), name).toEqual({ name: 'msgraph-user-gateway-redis', key: 'password' });
    expect(redis.readinessProbe.exec.command).toEqual(['redis-cli', 'ping']);
    const redisSecret = find('Secret', 'msgraph-user-gateway-redis');
    expect(redisSecret.stringData.password).toMatch(/^REPLACE/);
    // The gateway's CACHE_URL is a Secret value, not a ConfigMap one: it carries that password.
    expect(secret.stringData.CACHE_URL).toMatch(/^REPLACE-redis:\/\/:[^@]+@msgraph-user-gateway-redis:6379$/);
    expect(find('ConfigMap', 'msgraph-user-gateway').data.CACHE_URL).toBeUndefined();
  });

  it('run every container as non-root on a read-only root file system without privilege escalation', () => {
    for (const deployment of manifests.filter((m) => m.kind === 'Deployment')) {
      const spec = deployment.spec.template.spec;
      expect(spec.securityContext.runAsNonRoot, deployment.metadata.name).toBe(true);
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(spec.automountServiceAccountToken).toBe(false);
      // Pod-wide, so every container (and any added later) gets the container runtime's default syscall filter.
      expect(spec.securityContext.seccompProfile, deployment.metadata.name).toEqual({ type: 'RuntimeDefault' });
      for (const c of spec.containers) {
        expect(c.securityContext, `${deployment.metadata.name}/${c.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
    // The gateway's DATA_DIR (the image's /data) is writable.
    const dataDir = /DATA_DIR=(\S+)/.exec(readFileSync(path.join(ROOT, 'docker/Dockerfile'), 'utf8'))?.[1];
    expect((container.volumeMounts as Array<{ mountPath: string }>).map((m) => m.mountPath)).toContain(dataDir);
  });
});

describe('deploy/ probes against the production app', () => {
  let emulator: TestEmulator;
  let app: App;
  let dataDir: string;
  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 20 });
    dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-deploy-app-'));
    const env: Record<string, string> = { ...manifestEnvironment(), ...testOverrides(dataDir), DATA_DIR: emulator.dataDir };
    for (const name of ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET']) delete env[name];
    const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
    app = await startApp(loadConfig(env), { emulator, logger });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 200 on every probe path the Deployment names, without a credential', async () => {
    const probes = ['livenessProbe', 'readinessProbe', 'startupProbe'].map((name) => container[name]).filter(Boolean);
    expect(probes.length).toBe(3);
    const paths = new Set<string>();
    for (const probe of probes) {
      expect(probe.httpGet.port).toBe('http');
      paths.add(probe.httpGet.path as string);
    }
    expect([...paths].sort()).toEqual(['/healthz', '/readyz']);
    for (const probePath of paths) {
      const res = await fetch(`${app.url}${probePath}`);
      expect(res.status, probePath).toBe(200);
    }
    // The metrics are on the metrics port, not on the port the Service routes.
    const metricsUrl = app.gateway.metricsUrl();
    expect(metricsUrl).toBeDefined();
    expect((await fetch(`${metricsUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${app.url}/metrics`)).status).toBe(404);
    // And the probes are not a door: the API itself still wants the key.
    const refused = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(refused.status).toBe(401);
  });
});
