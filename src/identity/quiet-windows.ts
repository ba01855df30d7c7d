/**
 * Quiet windows of a repeated log line (docs/security.md#failed-authentication): the first event of
 * a key writes its line and opens a window; further events of the key within the window write
 * none and are counted (`notLogged`). The count is always reported, once: on the key's next line
 * after the window, or, when no event of the key comes again, when the window ends; when the key
 * is forgotten to make room (the map is bounded), at once; and when the process shuts down. Before,
 * only the next line of the same key carried it: a refusal that was not repeated after the window,
 * or a key pushed out of the map, took its count with it, and the operator never learned of the
 * refusals that were not written.
 */
export interface QuietWindowReport<T> {
  /** What the key's first line was about (reason, address...), as given to `event`. */
  subject: T;
  /** Events of the window that wrote no line (> 0). */
  notLogged: number;
}

export interface QuietWindows<T> {
  /** One event of `key`: whether it writes its line, and how many events of the key since its last line did not. */
  event(key: string, subject: T): { write: boolean; notLogged: number };
  /** Reports every count still held and stops the timer (shutdown); every later event writes its line and holds nothing. */
  close(): void;
}

export interface QuietWindowsOptions<T> {
  intervalMs: number;
  /** Keys held at most; past it the one whose window opened first is forgotten (its count reported). */
  maxKeys: number;
  now: () => number;
  /** Called with the count of a window that no later line of its key carried. */
  report(report: QuietWindowReport<T>): void;
}

/** The earliest a sweep runs after the previous one: many windows ending close together are reported in one pass. */
const MIN_SWEEP_DELAY_MS = 1_000;

export function createQuietWindows<T>(options: QuietWindowsOptions<T>): QuietWindows<T> {
  const { intervalMs, maxKeys, now, report } = options;
  /**
   * Key → its window. A Map keeps insertion order, and a window is (re)inserted when it opens, so
   * the first entry is the one that ends first: the sweep stops at the first window still open.
   */
  const windows = new Map<string, { until: number; notLogged: number; subject: T }>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Set by close(). A request still running when the gateway closes (the drain cut its connection,
   * not its handler) may refuse a caller after close(): its line is written, and nothing is held,
   * since no timer or later close() would report a count held then (a timer's line would come after
   * the logger was flushed, or never).
   */
  let closed = false;

  const forget = (key: string, window: { notLogged: number; subject: T }): void => {
    windows.delete(key);
    if (window.notLogged > 0) report({ subject: window.subject, notLogged: window.notLogged });
  };

  const sweep = (): void => {
    timer = undefined;
    const at = now();
    for (const [key, window] of windows) {
      if (window.until > at) break;
      forget(key, window);
    }
    schedule();
  };

  const schedule = (): void => {
    if (timer !== undefined) return;
    const first = windows.values().next();
    if (first.done) return;
    timer = setTimeout(sweep, Math.max(MIN_SWEEP_DELAY_MS, first.value.until - now()));
    // A pending report must not keep a stopping process alive; close() reports it instead.
    timer.unref();
  };

  return {
    event(key, subject) {
      if (closed) return { write: true, notLogged: 0 };
      const at = now();
      const window = windows.get(key);
      if (window && window.until > at) {
        window.notLogged += 1;
        return { write: false, notLogged: window.notLogged };
      }
      // The window ended and the sweep has not reported it yet: this line carries its count.
      windows.delete(key);
      if (windows.size >= maxKeys) {
        const oldest = windows.entries().next();
        if (!oldest.done) forget(oldest.value[0], oldest.value[1]);
      }
      windows.set(key, { until: at + intervalMs, notLogged: 0, subject });
      schedule();
      return { write: true, notLogged: window?.notLogged ?? 0 };
    },
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      for (const [key, window] of [...windows]) forget(key, window);
    },
  };
}
