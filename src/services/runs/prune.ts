// Retention: runs older than RUN_RETENTION_DAYS are deleted in small batches,
// one short transaction each, so pruning never holds the writer for long.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RunDeps } from './deps.js';

export const PRUNE_BATCH = 500;

/** Deletes the runs that ended before the retention window (never a task's last run); how many. */
export async function pruneOldRuns({ db, clock, runs }: RunDeps): Promise<number> {
  const before = new Date(clock.now() - runs.retentionMs);
  let total = 0;
  for (;;) {
    const deleted = await db.write((w) => w.pruneRuns(before, PRUNE_BATCH));
    total += deleted;
    if (deleted < PRUNE_BATCH) return total;
    await nextTurn(); // let requests in between batches
  }
}
