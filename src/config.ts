import type { Config } from './config-types.js';
import { readCallerAuth } from './config/caller-auth.js';
import { EnvReader } from './config/env-reader.js';
import { readHosted, readSelfDeployed, readSignInAccount } from './config/graph-credentials.js';
import { readGraphTarget } from './config/graph-target.js';
import { readCoalesceWindowMs, readGraphGovernor } from './config/graph-traffic.js';
import { readAuthFailures, readDrainTimeoutMs, readLimits } from './config/limits.js';
import { readNetwork } from './config/network.js';
import {
  credentialsPresent,
  readCorsOrigins,
  readTrustedProxies,
  readFederation,
  readIntrospection,
  readListen,
  readLogLevel,
  readPlayground,
  readSandbox,
  readSandboxChoice,
} from './config/server.js';
import { readCursorKey, readStorage } from './config/storage.js';
import { readTracingConfig } from './telemetry/config.js';

export { Secret } from './config-types.js';
export type { Config } from './config-types.js';
export { hashApiKey } from './config/caller-auth.js';
export { CLOUDS } from './config/graph-target.js';
export { directoryTierOf } from './config/graph-traffic.js';
export { isLoopbackHost } from './config/server.js';
export { CONFIG_VARIABLES, type ConfigVariable } from './config/variables.js';

/** Every problem found in the environment at once, each naming the variable, its purpose and an example. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /**
   * `gateway` (default): the configuration of a serving gateway, which must say who may call it.
   * `tool`: a command-line tool reading the gateway's configuration (auth:reset, auth:login-url,
   * doctor); it serves no caller, so a missing CALLER_AUTH is not its problem.
   */
  purpose?: 'gateway' | 'tool';
}

/**
 * Reads the environment into one validated Config. The only place that reads process.env (it is
 * passed in, so tests give their own; the readers per concern live in src/config/). Collects every
 * problem before failing, in the order the sections are read.
 */
export function loadConfig(rawEnv: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  const env = new EnvReader(rawEnv);
  const listen = readListen(env);
  const production = env.get('NODE_ENV') === 'production';
  const present = credentialsPresent(env);
  const { sandbox, noCredentialsInProduction } = readSandboxChoice(env, production, present);
  const target = readGraphTarget(env, present);
  const { flow, ...graphTarget } = target;
  // Without credentials in production the one problem above says it all; the sandbox needs none.
  const readsCredentials = !sandbox && !noCredentialsInProduction;
  const selfDeployed = readsCredentials && target.deploymentMode === 'self-deployed' ? readSelfDeployed(env, flow) : undefined;
  const hosted = readsCredentials && target.deploymentMode === 'hosted' ? readHosted(env) : undefined;
  const storage = readStorage(env, { sandbox, flow, deploymentMode: target.deploymentMode });
  const cursorKey = readCursorKey(env);
  const callerAuth = readCallerAuth(env, { host: listen.host, sandbox, noCredentialsInProduction, purpose: options.purpose });
  const signInAccount = readSignInAccount(env, flow);
  const network = readNetwork(env);

  const config: Config = {
    listen,
    sandbox: readSandbox(env, sandbox, flow),
    ...graphTarget,
    ...(selfDeployed ? { selfDeployed } : {}),
    ...(hosted ? { hosted } : {}),
    ...storage,
    ...cursorKey,
    callerAuth,
    ...network,
    logLevel: readLogLevel(env),
    introspection: readIntrospection(env, production),
    federation: readFederation(env),
    corsOrigins: readCorsOrigins(env),
    trustedProxies: readTrustedProxies(env),
    limits: readLimits(env),
    graphGovernor: readGraphGovernor(env, sandbox),
    authFailures: readAuthFailures(env),
    ...(signInAccount ? { signInAccount } : {}),
    drainTimeoutMs: readDrainTimeoutMs(env),
    playground: readPlayground(env, production),
    coalesceWindowMs: readCoalesceWindowMs(env),
    tracing: readTracingConfig((name) => env.get(name), env.problems),
  };
  if (env.problems.length > 0) throw new ConfigError(env.problems);
  return config;
}

/**
 * For command-line entry points (npm start, auth:*): the Config, or the list of problems on
 * stderr and exit code 2, the conventional "usage error".
 */
export function loadConfigOrExit(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  try {
    return loadConfig(env, options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
