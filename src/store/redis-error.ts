/**
 * Enough of a Redis client error to tell why a command failed (connection refused, timeout, `OOM
 * command not allowed` from a full Redis...) for a log line, without a Redis URL: it may carry a
 * password.
 */
export function redisErrorSummary(error: unknown): { name?: string; message?: string } {
  const e = error as { name?: unknown; message?: unknown } | null;
  return {
    ...(typeof e?.name === 'string' ? { name: e.name } : {}),
    ...(typeof e?.message === 'string' ? { message: e.message.replace(/rediss?:\/\/\S+/g, '(redis url)').slice(0, 200) } : {}),
  };
}
