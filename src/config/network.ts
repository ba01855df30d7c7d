import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config-types.js';
import type { EnvReader } from './env-reader.js';

/** Extra CAs to trust and the proxy: they apply to Graph, login and broker calls alike. */
export function readNetwork(env: EnvReader): Pick<Config, 'extraCaPem' | 'httpsProxy'> {
  const extraCaPem: string[] = [];
  const extraCaFile = env.get('NODE_EXTRA_CA_CERTS');
  if (extraCaFile) {
    if (existsSync(extraCaFile)) extraCaPem.push(readFileSync(extraCaFile, 'utf8'));
    else env.problem(`NODE_EXTRA_CA_CERTS=${extraCaFile} does not exist: a PEM bundle of extra CAs to trust (e.g. NODE_EXTRA_CA_CERTS=/etc/ssl/corp-ca.pem)`);
  }
  const httpsProxy = env.get('HTTPS_PROXY') ?? env.get('https_proxy');
  if (httpsProxy) {
    try {
      if (!['http:', 'https:'].includes(new URL(httpsProxy).protocol)) throw new Error('not http(s)');
    } catch {
      // The value is not echoed: a proxy URL may carry credentials.
      env.problem('HTTPS_PROXY is not an http(s) URL: the proxy for Graph, login and broker calls (e.g. HTTPS_PROXY=http://proxy.corp:3128)');
    }
  }
  return { extraCaPem, ...(httpsProxy ? { httpsProxy } : {}) };
}
