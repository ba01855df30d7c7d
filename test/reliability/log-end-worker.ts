import { pbkdf2 } from 'node:crypto';
import { createLogger, endLog } from '../../src/logger.js';

/**
 * Child process of log-end.test.ts. Run with UV_THREADPOOL_SIZE=1: a long pbkdf2 holds the only
 * thread-pool thread, so the log destination's asynchronous write of the first line waits behind
 * it, as it did behind a busy pool in CI. Then the process stops the way `mode` says.
 */
const mode = process.argv[2];
const logger = createLogger({ level: 'info' });
pbkdf2('busy', 'thread-pool', 2_000_000, 32, 'sha512', () => undefined);
logger.info('first');
logger.info('last');
if (mode === 'end') await endLog(logger, 20_000);
else await new Promise<void>((resolve) => logger.flush(() => resolve()));
process.exit(0);
