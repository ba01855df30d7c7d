import { describe, expect, it } from 'vitest';
import { createConcurrencyGate } from '../../src/graph/concurrency-gate.js';

/** GRAPH_MAX_CONCURRENCY per process, in front of the shared budget too (docs/reliability.md#rate-governor). */
describe('concurrency gate', () => {
  it('hands freed slots to writes before reads, each in arrival order', async () => {
    const gate = createConcurrencyGate(1);
    let exitHolder = await gate.enter();
    const order: string[] = [];
    const exits = new Map<string, () => void>();
    for (const [name, priority] of [
      ['read 1', false],
      ['read 2', false],
      ['write 1', true],
      ['write 2', true],
    ] as const) {
      void gate.enter(undefined, priority).then((exit) => {
        order.push(name);
        exits.set(name, exit);
      });
    }
    expect(gate.queued).toBe(4);
    for (let served = 1; served <= 4; served++) {
      exitHolder();
      await new Promise((resolve) => setImmediate(resolve));
      expect(order).toHaveLength(served); // one slot: one waiter at a time
      exitHolder = exits.get(order.at(-1)!)!;
    }
    expect(order).toEqual(['write 1', 'write 2', 'read 1', 'read 2']);
    exitHolder();
    expect(gate.inFlight).toBe(0);
  });
});
