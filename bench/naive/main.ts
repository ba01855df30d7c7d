/**
 * Child-process entry of the naive contender (so the benchmark can read its CPU time and peak RSS
 * from /proc). Configuration by environment; prints one JSON line `{"listening": url}` when ready.
 */
import { readFileSync } from 'node:fs';
import { startNaiveServer } from './server.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is missing (the benchmark harness sets it)`);
  return value;
}

const caFile = process.env.NAIVE_CA_FILE;
const running = await startNaiveServer({
  graphOrigin: required('NAIVE_GRAPH_ORIGIN'),
  authorityOrigin: required('NAIVE_AUTHORITY_ORIGIN'),
  tenantId: required('NAIVE_TENANT_ID'),
  clientId: required('NAIVE_CLIENT_ID'),
  clientSecret: required('NAIVE_CLIENT_SECRET'),
  ...(caFile ? { caPem: readFileSync(caFile, 'utf8') } : {}),
  port: Number(process.env.NAIVE_PORT ?? 0),
});
process.stdout.write(`${JSON.stringify({ listening: running.url })}\n`);
const stop = () => {
  void running.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
