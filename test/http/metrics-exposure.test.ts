import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';

/**
 * /metrics answers whoever reaches the port (docs/operations.md): Node's process metrics stay, the
 * exact Node version (prom-client's `nodejs_version_info`) does not.
 */
describe('/metrics exposure', () => {
  it('keeps the process metrics and leaves out the Node version', async () => {
    const text = await createMetrics().registry.metrics();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_used_bytes');
    expect(text).not.toContain('nodejs_version_info');
    expect(text).not.toContain(process.version);
  });
});
