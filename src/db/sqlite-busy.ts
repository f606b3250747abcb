// Waiting for another process's lock on the SQLite file (the admin CLI's
// import, say) without holding the event loop. better-sqlite3 is synchronous:
// with SQLite's busy_timeout, a statement that meets the lock sleeps inside
// the driver and every request of every tenant waits with it (5.6 s pauses
// were seen). So the server's connections run with busy_timeout 0, and a
// write that meets the lock (SQLITE_BUSY) is tried again here after a timer,
// until a deadline. Uncontended, a write pays one clock read (no syscall:
// performance.now() reads the vDSO clock) and one await, ~0.5 µs.

/** How long a write waits for another process's lock before failing. */
export const DEFAULT_LOCK_WAIT_MS = 5000;

// SQLite's own busy handler's pauses, capped at 50 ms so that a released lock
// is noticed soon. Only one write per process waits at a time (the others
// queue behind it in the WriteGate), so the polling stays cheap.
const PAUSES_MS = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50];

/** SQLITE_BUSY or one of its extended codes, from better-sqlite3 or through Prisma's driver adapter. */
export function isBusy(error: unknown): boolean {
  const e = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } };
  const code = e?.meta?.driverAdapterError?.cause?.originalCode ?? e?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** Runs an attempt, again while it fails with SQLITE_BUSY; see lockWait. */
export type LockWait = <T>(attempt: () => T | Promise<T>, since: number) => Promise<T>;

/**
 * Retries an attempt that failed with SQLITE_BUSY after short pauses until
 * `waitMs` after `since` (performance.now() when the write was asked for, so
 * that time queued behind another waiting write counts), then fails with a
 * plain Error for the operator. A failed attempt must have changed nothing: a
 * BEGIN that did not begin, or a whole transaction, rolled back.
 */
export function lockWait(file: string, waitMs = DEFAULT_LOCK_WAIT_MS): LockWait {
  return async <T>(attempt: () => T | Promise<T>, since: number): Promise<T> => {
    for (let failures = 0; ; failures++) {
      try {
        return await attempt();
      } catch (error) {
        if (!isBusy(error)) throw error;
        const left = since + waitMs - performance.now();
        if (left <= 0) {
          throw new Error(
            `SQLite database file ${file} was locked by another process (an admin import?) for longer ` +
              `than a write may wait (${waitMs} ms): this write was given up, nothing was written`,
            { cause: error },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(PAUSES_MS[failures] ?? 50, left)));
      }
    }
  };
}
