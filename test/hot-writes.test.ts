// The hot writes (quota, deleteTask, cancelSchedule rows) must change and
// answer exactly what the same operations through Prisma do, roll back as a
// whole, and take turns with Prisma's own transactions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HotWrites, prismaHotWrites } from '../src/db/client.js';
import { WriteGate } from '../src/db/write-gate.js';
import { createHarness, type Harness, type TaskSeed } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

/** Runs `op` through the database's hot writes and through Prisma. */
function both<T>(op: (w: HotWrites) => Promise<T>): Promise<[hot: T, prisma: T]> {
  return Promise.all([h.db.write(op), h.db.transaction((tx) => op(prismaHotWrites(tx)))]);
}

const createdAt = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
/** Two accounts with identical rows, one per implementation. */
async function twins(seed: Parameters<Harness['account']>[0] = {}, task: TaskSeed = {}) {
  const accounts = [await h.account(seed), await h.account(seed)];
  const tasks: string[] = [];
  for (const a of accounts) tasks.push(await h.task(a.id, { name: 'twin', createdAt, ...task }));
  return accounts.map((a, i) => ({ accountId: a.id, id: tasks[i]! }));
}
const without = <T extends object>(row: T | null, ...keys: string[]) =>
  row && Object.fromEntries(Object.entries(row).filter(([k]) => !keys.includes(k)));

describe('hot writes', () => {
  it('count quota like Prisma, with and without a period end', async () => {
    const resetAt = new Date(Date.UTC(2026, 6, 1, 0, 0, 0, 5));
    for (const quotaResetAt of [null, resetAt]) {
      const [a, b] = await twins({ quotaLimit: 50, quotaUsed: 7, quotaResetAt });
      const [hot, prisma] = await Promise.all([
        h.db.write((w) => w.addQuotaUsed(a!.accountId, 3)),
        h.db.transaction((tx) => prismaHotWrites(tx).addQuotaUsed(b!.accountId, 3)),
      ]);
      expect(hot).toEqual(prisma);
      expect(hot).toEqual({ quotaUsed: 10, quotaLimit: 50, quotaResetAt });
    }
  });

  it('start a quota period like Prisma', async () => {
    const [a, b] = await twins({ quotaUsed: 9, quotaResetAt: new Date(Date.UTC(2026, 0, 1)) });
    const next = new Date(Date.UTC(2026, 7, 1, 0, 0, 0, 250));
    await h.db.write((w) => w.startQuotaPeriod(a!.accountId, 2, next));
    await h.db.transaction((tx) => prismaHotWrites(tx).startQuotaPeriod(b!.accountId, 2, next));
    const read = (id: string) => h.db.read.account.findUniqueOrThrow({ where: { id } });
    const [ra, rb] = [await read(a!.accountId), await read(b!.accountId)];
    expect(without(ra, 'id', 'createdAt')).toEqual(without(rb, 'id', 'createdAt'));
    expect(ra).toMatchObject({ quotaUsed: 2, quotaResetAt: next });
  });

  it('insert a task like Prisma, every field and type', async () => {
    const [a, b] = [await h.account(), await h.account()];
    const task = (accountId: string, id: string) => ({
      id,
      accountId,
      name: 'nightly',
      api: 'PDF' as const,
      query: 'url=https%3A%2F%2Fexample.com&format=A4',
      frequency: 'CUSTOM' as const,
      crontab: '30 2 * * 1-5',
      timezone: 'Europe/Paris',
      status: 'PAUSED' as const,
      createdAt: new Date(Date.UTC(2026, 3, 4, 5, 6, 7, 891)),
      nextRunAt: null,
    });
    const [hot, prisma] = await Promise.all([
      h.db.write((w) => w.insertTask(task(a.id, 'ins-hot'))),
      h.db.transaction((tx) => prismaHotWrites(tx).insertTask(task(b.id, 'ins-prisma'))),
    ]);
    expect(without(hot, 'id', 'accountId')).toEqual(without(prisma, 'id', 'accountId'));
    expect(hot).toMatchObject({ inProgress: false, lastRunAt: null, runs: 0, version: 1, nextRunAt: null });
    expect(await h.db.read.task.findUnique({ where: { id: 'ins-hot' } })).toEqual(hot);
    // The read paths see it exactly as Prisma does, including its time.
    expect(await h.db.hot.tasksByIds(a.id, ['ins-hot'])).toEqual([hot]);
  });

  it("delete only the account's idle tasks among the ids, like Prisma", async () => {
    const sets = [];
    for (let n = 0; n < 2; n++) {
      const { id: accountId } = await h.account();
      const idle = await h.tasks(accountId, [{}, {}, { status: 'CANCELLED' }]);
      const running = await h.task(accountId, { inProgress: true });
      sets.push({ accountId, idle, running });
    }
    const [a, b] = sets as [(typeof sets)[0], (typeof sets)[0]];
    // Each side also names the other account's task and a missing id.
    const ids = (s: typeof a, other: typeof a) => [...s.idle, s.running, other.idle[0]!, 'missing', s.idle[0]!];
    const [hot, prisma] = await Promise.all([
      h.db.write((w) => w.deleteIdleTasks(a.accountId, ids(a, b))),
      h.db.transaction((tx) => prismaHotWrites(tx).deleteIdleTasks(b.accountId, ids(b, a))),
    ]);
    expect(hot).toBe(prisma);
    expect(hot).toBe(3);
    for (const s of [a, b]) {
      const left = await h.db.read.task.findMany({ where: { accountId: s.accountId }, select: { id: true } });
      expect(left.map((t) => t.id)).toEqual([s.running]);
    }
  });

  it('read task states and a task, and change a task only at the version read, like Prisma', async () => {
    const [a, b] = await twins({}, { status: 'PAUSED', inProgress: true });
    const states = (w: HotWrites, s: typeof a, other: typeof a) =>
      w.taskStates(s!.accountId, [s!.id, other!.id, 'missing', s!.id]);
    const [hotStates, prismaStates] = await Promise.all([
      h.db.write((w) => states(w, a, b)),
      h.db.transaction((tx) => states(prismaHotWrites(tx), b, a)),
    ]);
    expect(hotStates).toEqual([{ id: a!.id, status: 'PAUSED', inProgress: true }]);
    expect(prismaStates).toEqual([{ id: b!.id, status: 'PAUSED', inProgress: true }]);
    expect(await both((w) => w.taskStates(a!.accountId, [b!.id]))).toEqual([[], []]);
    const [readHot, readPrisma] = await Promise.all([
      h.db.write((w) => w.taskById(a!.accountId, a!.id)),
      h.db.transaction((tx) => prismaHotWrites(tx).taskById(b!.accountId, b!.id)),
    ]);
    expect(without(readHot, 'id', 'accountId')).toEqual(without(readPrisma, 'id', 'accountId'));
    expect(readHot).toEqual(await h.db.read.task.findUnique({ where: { id: a!.id } }));
    expect(await both((w) => w.taskById(a!.accountId, b!.id))).toEqual([null, null]);
    const to = {
      name: 'renamed',
      api: 'PDF' as const,
      query: 'url=x',
      frequency: 'CUSTOM' as const,
      crontab: '30 2 * * *',
      timezone: 'America/New_York',
      status: 'ACTIVE' as const,
      nextRunAt: new Date(Date.UTC(2026, 2, 8, 7, 0, 0, 0)),
    };
    // Not at the version read: nothing changes.
    expect(await both((w) => w.updateTaskIf(a!.accountId, a!.id, 2, to))).toEqual([null, null]);
    const [hot, prisma] = await Promise.all([
      h.db.write((w) => w.updateTaskIf(a!.accountId, a!.id, 1, to)),
      h.db.transaction((tx) => prismaHotWrites(tx).updateTaskIf(b!.accountId, b!.id, 1, to)),
    ]);
    expect(without(hot, 'id', 'accountId')).toEqual(without(prisma, 'id', 'accountId'));
    expect(hot).toMatchObject({ id: a!.id, ...to, version: 2, inProgress: true, createdAt });
    expect(await h.db.read.task.findUnique({ where: { id: a!.id } })).toEqual(hot);
  });

  it('roll back every change when the transaction throws', async () => {
    const [a] = await twins({ quotaUsed: 4 });
    await expect(
      h.db.write(async (w) => {
        await w.addQuotaUsed(a!.accountId, 1);
        expect(await w.deleteIdleTasks(a!.accountId, [a!.id])).toBe(1);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await h.quotaUsed(a!.accountId)).toBe(4);
    expect(await h.db.read.task.count({ where: { id: a!.id } })).toBe(1);
  });

  it('wait for an open Prisma transaction and see its committed change (no lock error)', async () => {
    const [a] = await twins({ quotaUsed: 0 });
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let opened!: () => void;
    const open = new Promise<void>((r) => {
      opened = r;
    });
    const first = h.db.transaction(async (tx) => {
      await tx.account.update({ where: { id: a!.accountId }, data: { quotaUsed: 10 } });
      opened();
      await held;
    });
    await open;
    let wrote = false;
    const second = h.db.write(async (w) => {
      const row = await w.addQuotaUsed(a!.accountId, 1);
      wrote = true;
      return row;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(wrote).toBe(false);
    release();
    await first;
    expect((await second).quotaUsed).toBe(11);
  });
});

describe('WriteGate', () => {
  it('runs one callback at a time, in call order, and a failure does not stop the next', async () => {
    const gate = new WriteGate();
    const log: string[] = [];
    const step = (name: string, fail = false) =>
      gate.run(async () => {
        log.push(`${name} start`);
        await new Promise((r) => setTimeout(r, 5));
        log.push(`${name} end`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([step('a'), step('b', true), step('c')]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(results[1]!.status).toBe('rejected');
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });
});
