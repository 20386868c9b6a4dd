import { Context } from '@temporalio/activity';

/**
 * Heartbeats every `intervalMs` while `work` runs, so a long single call (hashing a large
 * file, a COPY) proves the worker is alive and lets the activity see a cancellation.
 */
export async function withHeartbeat<T>(work: () => Promise<T>, details?: () => unknown, intervalMs = 5_000): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat(details?.());
  const timer = setInterval(() => ctx.heartbeat(details?.()), intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
