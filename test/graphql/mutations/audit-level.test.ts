import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../../src/audit/index.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';

/** A quieter LOG_LEVEL must not drop audit events: a SIEM relies on every one of them. */
describe('audit events and the log level', () => {
  function capture(level: string) {
    const lines: string[] = [];
    const logger = createLogger({ level, destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
    const audit = createAuditLog({ logger, metrics: createMetrics({ defaultMetrics: false }) });
    return { lines, audit, logger };
  }

  for (const level of ['warn', 'error', 'info', 'debug']) {
    it(`writes audit events at LOG_LEVEL=${level}, and nothing else below the level`, () => {
      const { lines, audit, logger } = capture(level);
      logger.info('ordinary info line');
      audit.emit({
        operation: 'disableAccount',
        operationName: null,
        outcome: 'succeeded',
        caller: { kind: 'anonymous' },
        targetUser: 'u1',
        steps: [],
        requestIds: [],
        correlationId: 'c1',
      });
      const records = lines
        .flatMap((l) => l.split('\n'))
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.filter((r) => r['audit'] === true)).toHaveLength(1);
      const ordinary = records.filter((r) => r['msg'] === 'ordinary info line');
      expect(ordinary).toHaveLength(level === 'warn' || level === 'error' ? 0 : 1);
    });
  }
});
