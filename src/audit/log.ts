import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import { auditOperationName, type AuditEvent } from './event.js';

/**
 * Writes audit events as JSON lines on the log stream (`audit: true`, `stream: "audit"`, so a
 * SIEM or a log router can pick them out) and counts them in `gateway_audit_events_total`.
 * Process-wide: one per gateway.
 */
export interface AuditLog {
  emit(event: Omit<AuditEvent, 'time' | 'eventId'> & { time?: string }): AuditEvent;
}

export interface AuditLogDeps {
  logger: Logger;
  metrics: Pick<GatewayMetrics, 'auditEvents'>;
  now?: () => Date;
}

export function createAuditLog(deps: AuditLogDeps): AuditLog {
  // Audit events are written at info even when the log level is warn or error: a SIEM must not
  // lose them to a quieter log setting. Only LOG_LEVEL=silent turns them off.
  const parentLevel = deps.logger.level;
  const quieterThanInfo = parentLevel !== 'silent' && deps.logger.levelVal > deps.logger.levels.values['info']!;
  const logger = deps.logger.child({ stream: 'audit' }, quieterThanInfo ? { level: 'info' } : {});
  const now = deps.now ?? (() => new Date());
  return {
    emit(partial) {
      // Every event's operationName passes the one rule here, whoever built the event.
      const event: AuditEvent = {
        ...partial,
        operationName: auditOperationName(partial.operationName),
        eventId: randomUUID(),
        time: partial.time ?? now().toISOString(),
      };
      // Spread rather than nested so every field is a top-level JSON key; pino adds its own
      // `time` (log time), ours is kept as `eventTime` to avoid a duplicate key.
      const { time, ...fields } = event;
      logger.info({ audit: true, eventTime: time, ...fields }, `audit ${event.operation} ${event.outcome}`);
      deps.metrics.auditEvents.inc({ operation: event.operation, outcome: event.outcome });
      return event;
    },
  };
}
