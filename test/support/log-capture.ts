import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

/** The gateway's real logger (pino, its redaction included), writing each chunk into `lines`. */
export function capturingLogger(lines: string[], level = 'debug'): Logger {
  return createLogger({ level, destination: new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }) });
}

/** The JSON log records in captured chunks (a chunk may hold several lines). */
export function logRecordsOf(lines: readonly string[]): Array<Record<string, any>> {
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
}
