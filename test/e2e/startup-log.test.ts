import { LogLevel } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMsalLoggerOptions } from '../../src/identity/msal-logger.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { capturingLogger } from '../support/log-capture.js';

/**
 * msal's "No client info in response" warning came out at every start (each client credentials
 * token): app-only tokens never carry `client_info`, so for that flow it says nothing. It is dropped
 * there and nowhere else; msal's other lines still reach the log.
 */
describe('msal log lines of a client credentials gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { LOG_LEVEL: 'debug' } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('a token acquisition logs msal lines but not the client-info warning', async () => {
    expect((await gw.graphql('{ users(first: 1) { nodes { id } } }')).errors).toBeUndefined();
    const msal = gw.logLines.filter((line) => line.includes('"component":"msal"'));
    expect(msal.length).toBeGreaterThan(0);
    expect(msal.join('\n')).not.toContain('No client info in response');
  });
});

describe('createMsalLoggerOptions', () => {
  function capture(options?: { clientCredentialsOnly?: boolean }) {
    const lines: string[] = [];
    const logger = capturingLogger(lines, 'trace');
    return { lines, callback: createMsalLoggerOptions(logger, [], options).loggerCallback! };
  }
  const warning = '[Sun, 29 Nov 2026 21:47:50 GMT] : [9b5e7350-c65d-4d61-bd27-e5e47ead368e] : @azure/msal-node@7.2.3 : Warning - No client info in response';

  it('drops only that warning, and only for client credentials', () => {
    const app = capture({ clientCredentialsOnly: true });
    app.callback(LogLevel.Warning, warning, false);
    app.callback(LogLevel.Warning, warning.replace('No client info in response', 'Some other warning'), false);
    app.callback(LogLevel.Error, warning, false);
    expect(app.lines).toHaveLength(2);
    expect(app.lines[0]).toContain('Some other warning');

    const user = capture({ clientCredentialsOnly: false });
    user.callback(LogLevel.Warning, warning, false);
    expect(user.lines).toHaveLength(1);
    expect(user.lines[0]).toContain('No client info in response');
  });
});
