import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Config } from '../../src/config-types.js';
import type { TestEmulator } from './emulator.js';
import { apiKeyCallers } from './api-key-callers.js';
import { startTestGateway, type TestGateway } from './gateway.js';

/** The emulator broker's answer to one token request, and what the relay answers instead. */
export interface BrokerAnswer {
  status: number;
  text: string;
}
export interface RelayedAnswer {
  text: string;
  headers?: Record<string, string>;
}

export interface RelayingBrokerOptions {
  /** The body sent on to the emulator's broker (default: the gateway's own request body). */
  requestBody?: (sent: string) => string;
  /** What the gateway is answered (default: the emulator broker's answer as it is). */
  answer?: (answered: BrokerAnswer) => RelayedAnswer;
}

export interface HostedGatewayBehindBroker {
  gateway: TestGateway;
  close(): Promise<void>;
}

/**
 * A hosted gateway in the production configuration (API-key callers) whose broker is a relay in
 * front of the emulator's: each token request is passed on and its answer handed back, both as the
 * options make them. How the hosted-broker suites play a broker that misbehaves (a header holding a
 * secret, another tenant's token, a token no header can carry) over real sockets.
 */
export async function startHostedGatewayBehindRelayingBroker(
  emulator: TestEmulator,
  options: RelayingBrokerOptions & {
    callers: Parameters<typeof apiKeyCallers>[0];
    /** Over the hosted settings, with the relay's URL already set (e.g. another BROKER_TOKEN). */
    hosted?: (hosted: NonNullable<Config['hosted']>) => NonNullable<Config['hosted']>;
  },
): Promise<HostedGatewayBehindBroker> {
  const dispatcher = new Agent({ connect: { ca: emulator.caCertPem } });
  const broker = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const sent = Buffer.concat(chunks).toString('utf8');
        const answer = await undiciFetch(emulator.brokerUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: options.requestBody ? options.requestBody(sent) : sent,
          dispatcher,
        });
        const answered: BrokerAnswer = { status: answer.status, text: await answer.text() };
        const relayed = options.answer ? options.answer(answered) : { text: answered.text };
        res.writeHead(answer.status, { 'content-type': 'application/json', ...relayed.headers });
        res.end(relayed.text);
      })();
    });
  });
  await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
  const brokerUrl = `http://127.0.0.1:${(broker.address() as AddressInfo).port}/obtain-token`;
  const gateway = await startTestGateway({
    emulator,
    env: { NODE_ENV: 'production', INTROSPECTION: '', DEPLOYMENT_MODE: 'hosted', ...apiKeyCallers(options.callers) },
    configure: (config) => {
      const hosted = { ...config.hosted!, brokerUrl };
      return { ...config, hosted: options.hosted ? options.hosted(hosted) : hosted };
    },
  });
  return {
    gateway,
    async close() {
      await gateway.close();
      broker.closeAllConnections();
      await new Promise((resolve) => broker.close(resolve));
      await dispatcher.close();
    },
  };
}
