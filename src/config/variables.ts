import { TRACING_VARIABLES } from '../telemetry/config.js';

/**
 * Every environment variable loadConfig reads (src/config/ and src/telemetry/config.ts). EnvReader
 * reads only these names (a name missing here does not compile); deployment manifests and
 * docs/configuration.md are checked against it, and test/deploy also checks what loadConfig really reads.
 */
export const CONFIG_VARIABLES = [
  'HOST',
  'PORT',
  'METRICS_PORT',
  'NODE_ENV',
  'SANDBOX',
  'SANDBOX_SEED',
  'SANDBOX_USERS',
  'EMULATOR_PORT',
  'DEPLOYMENT_MODE',
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_CLOUD',
  'AZURE_AUTHORITY_HOST',
  'GRAPH_ENDPOINT',
  'GRAPH_AUTH_FLOW',
  'AUTH_CODE',
  'REDIRECT_URI',
  'SIGN_IN_ACCOUNT',
  'BROKER_URL',
  'BROKER_ID',
  'BROKER_TOKEN',
  'BROKER_KEY',
  'DATA_DIR',
  'CACHE_URL',
  'TOKEN_CACHE_KEY',
  'TOKEN_CACHE_KEY_PREVIOUS',
  'CURSOR_KEY',
  'CURSOR_KEY_PREVIOUS',
  'CALLER_AUTH',
  'API_AUDIENCE',
  'API_KEYS',
  'AUTH_FAILURE_LIMIT',
  'AUTH_FAILURE_WINDOW_SECONDS',
  'NODE_EXTRA_CA_CERTS',
  'HTTPS_PROXY',
  'https_proxy',
  'LOG_LEVEL',
  'INTROSPECTION',
  'PLAYGROUND',
  'CORS_ORIGINS',
  'TRUSTED_PROXIES',
  'MAX_QUERY_DEPTH',
  'MAX_ALIASES',
  'MAX_TOKENS',
  'MAX_DIRECTIVES',
  'MAX_BODY_BYTES',
  'MAX_CONNECTIONS',
  'MAX_CONNECTIONS_PER_ADDRESS',
  'MAX_UPSTREAM_RESPONSE_BYTES',
  'MAX_UPSTREAM_REQUESTS',
  'UPSTREAM_TIMEOUT_MS',
  'OPERATION_TIMEOUT_MS',
  'MAX_RETRIES',
  'GRAPH_RU_PER_10S',
  'GRAPH_WRITES_PER_150S',
  'GRAPH_MAX_CONCURRENCY',
  'GRAPH_MAX_WAIT_MS',
  'GRAPH_REPLICAS',
  'DRAIN_TIMEOUT_MS',
  'COALESCE_WINDOW_MS',
  'FEDERATION',
  ...TRACING_VARIABLES,
  // Each secret of SECRET_FILE_VARIABLES read from a file instead (src/config/env-reader.ts).
  'AZURE_CLIENT_SECRET_FILE',
  'AUTH_CODE_FILE',
  'BROKER_TOKEN_FILE',
  'BROKER_KEY_FILE',
  'CACHE_URL_FILE',
  'TOKEN_CACHE_KEY_FILE',
  'TOKEN_CACHE_KEY_PREVIOUS_FILE',
  'CURSOR_KEY_FILE',
  'CURSOR_KEY_PREVIOUS_FILE',
  'API_KEYS_FILE',
  'OTEL_EXPORTER_OTLP_HEADERS_FILE',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS_FILE',
] as const;

/**
 * The secrets that may come from a file: `NAME_FILE=/run/secrets/name` instead of `NAME=value`, the
 * convention of Docker and Kubernetes secrets mounted as files (a value in the environment is visible
 * to `docker inspect`, `/proc/<pid>/environ` and every child process).
 */
export const SECRET_FILE_VARIABLES = {
  AZURE_CLIENT_SECRET: 'AZURE_CLIENT_SECRET_FILE',
  AUTH_CODE: 'AUTH_CODE_FILE',
  BROKER_TOKEN: 'BROKER_TOKEN_FILE',
  BROKER_KEY: 'BROKER_KEY_FILE',
  CACHE_URL: 'CACHE_URL_FILE',
  TOKEN_CACHE_KEY: 'TOKEN_CACHE_KEY_FILE',
  TOKEN_CACHE_KEY_PREVIOUS: 'TOKEN_CACHE_KEY_PREVIOUS_FILE',
  CURSOR_KEY: 'CURSOR_KEY_FILE',
  CURSOR_KEY_PREVIOUS: 'CURSOR_KEY_PREVIOUS_FILE',
  API_KEYS: 'API_KEYS_FILE',
  OTEL_EXPORTER_OTLP_HEADERS: 'OTEL_EXPORTER_OTLP_HEADERS_FILE',
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS_FILE',
} as const satisfies Partial<Record<string, string>>;

/** The name of a variable loadConfig reads. */
export type ConfigVariable = (typeof CONFIG_VARIABLES)[number];
