import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../../src/audit/index.js';
import { createMetrics } from '../../../src/metrics.js';
import { capturingLogger, logRecordsOf } from '../../support/log-capture.js';

/** A quieter LOG_LEVEL must not drop audit events: a SIEM relies on every one of them. */
describe('audit events and the log level', () => {
  function capture(level: string) {
    const lines: string[] = [];
    const logger = capturingLogger(lines, level);
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
      const records = logRecordsOf(lines);
      expect(records.filter((r) => r['audit'] === true)).toHaveLength(1);
      const ordinary = records.filter((r) => r['msg'] === 'ordinary info line');
      expect(ordinary).toHaveLength(level === 'warn' || level === 'error' ? 0 : 1);
    });
  }
});
