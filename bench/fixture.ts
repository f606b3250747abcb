// The benchmark's database: realistic size, built through the service layer's
// own account/key helpers and Prisma, then copied once per server under test.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { insertAccount, insertApiKey } from '../src/services/accounts.js';
import { nextRunAfter } from '../src/services/tasks/next-run.js';

export interface Fixture {
  /** Accounts with `tasksPerAccount` tasks each (hot reads, pages, aliases, cancels). */
  accounts: { key: string; taskIds: string[] }[];
  /** 1,000 more accounts with one task each (auth and limits at scale). */
  wide: { key: string; taskId: string }[];
  /** Per account of `accounts`: ids reserved for deleteTask, never read or cancelled. */
  deletable: string[][];
  /** One more account whose tasks deleteTasks removes 1,000 at a time. */
  batch: { key: string; ids: string[] };
  file: string;
}

const BATCH = 5_000;

export async function buildFixture(
  dir: string,
  opts: { tasks: number; accounts: number; wideAccounts: number; deletablePerAccount: number; batchTasks: number },
): Promise<Fixture> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'fixture.db');
  const url = `file:${file}`;
  await migrateDatabase(url);
  const db = await openDatabase(url);
  const now = Date.now();
  // Every fixture task is ACTIVE on the same crontab and zone: its next run,
  // as the services plan it, is computed once. (Without it the API would plan
  // every row at start, and the references would read nulls.)
  const schedule = { crontab: '0 0 * * *', timezone: 'Etc/UTC', status: 'ACTIVE' as const };
  const nextRunAt = nextRunAfter(schedule, now);
  if (!nextRunAt) throw new Error(`fixture: ${schedule.crontab} never fires`);
  const task = (id: string, accountId: string, i: number) => ({
    id,
    accountId,
    name: `task ${i}`,
    api: (['SCREENSHOT', 'PDF', 'SCRAPE', 'SCREENCAST'] as const)[i % 4]!,
    query: `url=https%3A%2F%2Fexample.com%2Fpage%2F${i}`,
    frequency: 'EVERY_DAY' as const,
    ...schedule,
    createdAt: new Date(now - i * 1000),
    nextRunAt,
  });
  const rows: ReturnType<typeof task>[] = [];
  const fixture: Fixture = { accounts: [], wide: [], deletable: [], batch: { key: '', ids: [] }, file };
  const perAccount = Math.ceil(opts.tasks / opts.accounts);

  await db.transaction(async (tx) => {
    for (let a = 0; a < opts.accounts; a++) {
      const id = await insertAccount(tx, { name: `bench-${a}`, plan: 'SCALE', quotaLimit: 1_000_000_000 }, now);
      const key = await insertApiKey(tx, id, `bench-key-${a.toString().padStart(6, '0')}-${'x'.repeat(20)}`);
      const taskIds = Array.from({ length: perAccount }, (_, i) => `t${a}-${i}`);
      rows.push(...taskIds.map((t, i) => task(t, id, a * perAccount + i)));
      const deletable = Array.from({ length: opts.deletablePerAccount }, (_, i) => `d${a}-${i}`);
      rows.push(...deletable.map((t, i) => task(t, id, i)));
      fixture.accounts.push({ key, taskIds });
      fixture.deletable.push(deletable);
    }
    for (let w = 0; w < opts.wideAccounts; w++) {
      const id = await insertAccount(tx, { name: `wide-${w}`, plan: 'SCALE', quotaLimit: 1_000_000_000 }, now);
      const key = await insertApiKey(tx, id, `wide-key-${w.toString().padStart(6, '0')}-${'y'.repeat(20)}`);
      rows.push(task(`w${w}`, id, w));
      fixture.wide.push({ key, taskId: `w${w}` });
    }
    const batchAccount = await insertAccount(tx, { name: 'batch', plan: 'SCALE', quotaLimit: 1_000_000_000 }, now);
    fixture.batch.key = await insertApiKey(tx, batchAccount, `batch-key-${'z'.repeat(30)}`);
    fixture.batch.ids = Array.from({ length: opts.batchTasks }, (_, i) => `b${i}`);
    rows.push(...fixture.batch.ids.map((id, i) => task(id, batchAccount, i)));
    for (let i = 0; i < rows.length; i += BATCH) await tx.task.createMany({ data: rows.slice(i, i + BATCH) });
  });
  await db.read.$queryRawUnsafe('PRAGMA wal_checkpoint(TRUNCATE)');
  await db.close();
  return fixture;
}

/** A private copy of the fixture database for one server. */
export async function copyFixture(fixture: Fixture, name: string): Promise<string> {
  const target = path.join(path.dirname(fixture.file), `${name}.db`);
  await copyFile(fixture.file, target);
  return target;
}
