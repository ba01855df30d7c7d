/**
 * How fast this machine runs a fixed piece of JavaScript right now: the median time of one pass
 * over a fixed workload (JSON parse and stringify of a deterministic 100-user page, the kind of work
 * every contender does), measured in the bench process while nothing else of the run is busy.
 *
 * Why: the load average does not show a virtual machine's host being busy. On the 2-core VM these
 * figures come from, the same pass took 0.93 ms at one moment and 1.39 ms thirteen minutes later
 * with a load average near 0 both times, and every latency of a CPU-bound cell moved with it. The
 * report prints the probe at the start and the end of the run, so a reader can tell a slow machine
 * from a slow contender, and runs taken on the same machine can be compared.
 */
const PAGE = JSON.stringify({
  value: Array.from({ length: 100 }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    displayName: `User ${i}`,
    mail: `user${i}@contoso.example`,
    jobTitle: i % 3 === 0 ? 'Engineer' : null,
    manager: { id: `00000000-0000-4000-8000-${String(1000 + (i % 7)).padStart(12, '0')}`, displayName: `Manager ${i % 7}` },
  })),
});

function onePass(): number {
  let length = 0;
  for (let k = 0; k < 10; k++) length += JSON.stringify(JSON.parse(PAGE)).length;
  return length;
}

/** Median milliseconds per pass over `passes` passes, after as many unmeasured ones (optimised code). */
export function speedProbeMs(passes = 200): number {
  for (let i = 0; i < passes; i++) onePass();
  const times: number[] = [];
  for (let i = 0; i < passes; i++) {
    const started = performance.now();
    onePass();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}
