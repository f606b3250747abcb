import type { Database } from '../../db/client.js';
import { nextRunAfter } from './next-run.js';

const BATCH = 500;

/**
 * Plans the next run of ACTIVE tasks that have none stored: rows written
 * before nextRunAt existed (the migration cannot run the crontab engine).
 * Run at start; cheap when there are none (one indexed query). Each write is
 * conditional on the row being unchanged, so a concurrent change wins.
 */
export async function planMissingRuns(db: Database, now: number): Promise<number> {
  let planned = 0;
  let after = '';
  for (;;) {
    const rows = await db.read.task.findMany({
      where: { status: 'ACTIVE', nextRunAt: null, id: { gt: after } },
      select: { id: true, crontab: true, timezone: true, status: true, version: true },
      orderBy: { id: 'asc' },
      take: BATCH,
    });
    if (rows.length === 0) return planned;
    await db.transaction(async (tx) => {
      for (const row of rows) {
        const nextRunAt = nextRunAfter(row, now);
        if (!nextRunAt) continue;
        const { count } = await tx.task.updateMany({
          where: { id: row.id, version: row.version, status: 'ACTIVE', nextRunAt: null },
          // A change clients can see: a new version, like every change.
          data: { nextRunAt, version: { increment: 1 } },
        });
        planned += count;
      }
    });
    after = rows.at(-1)!.id;
  }
}
