// Another process holding SQLite's write lock (the admin CLI importing into
// the same file) must not freeze the server: better-sqlite3 is synchronous, so
// a write waiting inside the driver would hold every request of every tenant.
// A write that meets the lock waits with the event loop free — reads and
// timers go on — and completes once the lock is released, or fails (masked)
// at its deadline having changed nothing. The lock is held here by a second
// connection to the same file, as the CLI holds it. (A SQLite-file suite: it
// runs on SQLite in every vitest project.)
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteFilePath } from '../src/db/sqlite.js';
import { insertAccount } from '../src/services/accounts.js';
import { createHarness, type Harness } from './helpers/harness.js';
import { sqliteTestDatabase } from './helpers/sqlite-file.js';

const READ = 'query Read($id: ID!) { task(id: $id) { __typename } }';
const DELETE = 'mutation Delete($id: ID!) { deleteTask(id: $id) { __typename } }';

let h: Harness; // the default deadline (5 s): these locks end well before it
let quick: Harness; // a short deadline, for locks held past it
beforeAll(async () => {
  h = await createHarness({ database: await sqliteTestDatabase() });
  quick = await createHarness({ database: await sqliteTestDatabase(), databaseOptions: { lockWaitMs: 300 } });
});
afterAll(async () => {
  await h.close();
  await quick.close();
});

let imported = 0;
/** SQLite's write lock on the harness's file, held by another connection with an uncommitted insert. */
function holdWriteLock(harness: Harness) {
  const other = new Sqlite(sqliteFilePath(harness.url), { timeout: 0 });
  other.exec('BEGIN IMMEDIATE');
  other
    .prepare(
      `INSERT INTO Account (id, name, plan, billing, quotaLimit, quotaUsed, createdAt)
       VALUES (?, 'imported', 'SCALE', 'OK', 10, 0, '2026-01-01T00:00:00.000+00:00')`,
    )
    .run(`imported-${++imported}`);
  const end = (sql: string) => () => {
    other.exec(sql);
    other.close();
  };
  return { accountId: `imported-${imported}`, commit: end('COMMIT'), rollback: end('ROLLBACK') };
}

/** A promise and whether it has settled, observed without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state = { settled: false, promise };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

/** Resolves once `cond` holds, polling on timers: only if the event loop turns. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error(`gave up waiting: ${what}`);
}

/** Resolves after `n` ticks of an interval: only if the event loop keeps turning. */
function ticks(n: number): Promise<void> {
  return new Promise((resolve) => {
    let count = 0;
    const timer = setInterval(() => {
      if (++count < n) return;
      clearInterval(timer);
      resolve();
    }, 2);
  });
}

const typename = async (harness: Harness, doc: string, id: string, key: string) =>
  Object.values((await harness.request(doc, { id }, { key })).body.data ?? {}).map(
    (v) => (v as { __typename: string } | null)?.__typename,
  );

describe("another connection's write lock on the SQLite file", () => {
  it('a write waits for it without blocking the event loop: reads answer, timers tick, then the write succeeds', async () => {
    const { id: accountId, key } = await h.account();
    const [first, second] = (await h.tasks(accountId, [{}, {}])) as [string, string];
    const lock = holdWriteLock(h);
    let write: ReturnType<typeof track<Awaited<ReturnType<Harness['request']>>>>;
    try {
      expect(await typename(h, READ, first, key)).toEqual(['Task']);
      const mark = h.queries.length;
      write = track(h.request(DELETE, { id: first }, { key }));
      await until(() => h.queries.slice(mark).includes('BEGIN IMMEDIATE'), 'the write to meet the lock');
      await ticks(5);
      expect(await typename(h, READ, second, key)).toEqual(['Task']);
      expect(write.settled).toBe(false);
    } finally {
      lock.commit();
    }
    expect((await write.promise).body).toEqual({ data: { deleteTask: { __typename: 'DeleteTaskSuccess' } } });
    expect(await h.quotaUsed(accountId)).toBe(1);
    expect(await h.db.read.task.count({ where: { id: first } })).toBe(0);
    expect(await h.db.read.account.count({ where: { id: lock.accountId } })).toBe(1);
  });

  it("Prisma's transactions (imports, the demo seed) wait the same way, running again once it is released", async () => {
    const lock = holdWriteLock(h);
    let attempts = 0;
    let created: ReturnType<typeof track<string>>;
    try {
      created = track(
        h.db.transaction(async (tx) => {
          attempts++;
          return insertAccount(
            tx,
            {
              name: 'made during the lock',
              plan: 'SCALE',
              billing: 'OK',
              quotaLimit: 10,
              quotaUsed: 0,
              quotaResetAt: null,
            },
            Date.now(),
          );
        }),
      );
      // A second attempt: the first met the lock, was rolled back, and the wait left the loop free.
      await until(() => attempts >= 2, 'the transaction to meet the lock and try again');
      await ticks(5);
      expect(created.settled).toBe(false);
    } finally {
      lock.commit();
    }
    const id = await created.promise;
    expect(await h.db.read.account.findUnique({ where: { id } })).toMatchObject({ name: 'made during the lock' });
    expect(await h.db.read.account.count({ where: { name: 'made during the lock' } })).toBe(1);
  });

  it('writes queued behind a locked-out write share its deadline instead of each waiting a new one', async () => {
    const { id: accountId, key } = await quick.account();
    const ids = await quick.tasks(accountId, [{}, {}, {}]);
    const lock = holdWriteLock(quick);
    let afterFirst = 0;
    let answers: string[][];
    try {
      const first = quick.request(DELETE, { id: ids[0] }, { key });
      first.then(() => {
        afterFirst = quick.queries.length;
      });
      answers = await Promise.all([first, ...ids.slice(1).map((id) => quick.request(DELETE, { id }, { key }))]).then(
        (all) => all.map((r) => r.body.errors?.map((e) => e.message) ?? []),
      );
    } finally {
      lock.rollback();
    }
    expect(answers).toEqual([['Unexpected error.'], ['Unexpected error.'], ['Unexpected error.']]);
    // The first used up the deadline; each queued write tried once, then gave up.
    const attemptsAfterFirst = quick.queries.slice(afterFirst).filter((q) => q === 'BEGIN IMMEDIATE').length;
    expect(attemptsAfterFirst).toBeLessThanOrEqual(2);
    expect(await quick.quotaUsed(accountId)).toBe(0);
  });

  it('other failures are not retried: a transaction that breaks a constraint fails after one attempt', async () => {
    const { id } = await h.account();
    let attempts = 0;
    await expect(
      h.db.transaction(async (tx) => {
        attempts++;
        await tx.account.update({ where: { id }, data: { quotaUsed: 5 } });
        await tx.account.create({ data: { id, name: 'same id', plan: 'SCALE', quotaLimit: 1 } });
      }),
    ).rejects.toMatchObject({ code: 'P2002' });
    expect(attempts).toBe(1);
    expect(await h.quotaUsed(id)).toBe(0);
  });

  it('a write still locked out at its deadline answers the masked error and changes nothing', async () => {
    const { id: accountId, key } = await quick.account({ quotaUsed: 3 });
    const taskId = await quick.task(accountId);
    const logMark = quick.logLines.length;
    const lock = holdWriteLock(quick);
    let res: Awaited<ReturnType<Harness['request']>>;
    try {
      res = await quick.request(DELETE, { id: taskId }, { key });
      await expect(quick.account({ name: 'never made' })).rejects.toThrow(/locked by another process/);
    } finally {
      lock.rollback();
    }
    expect(res.body.data).toEqual({ deleteTask: null });
    expect(res.body.errors).toMatchObject([{ message: 'Unexpected error.', path: ['deleteTask'] }]);
    expect(await quick.quotaUsed(accountId)).toBe(3);
    expect(await quick.db.read.task.count({ where: { id: taskId } })).toBe(1);
    expect(await quick.db.read.account.count({ where: { name: 'never made' } })).toBe(0);
    // Logged once with its stack, for the operator.
    const logged = quick.logLines
      .slice(logMark)
      .map((l) => JSON.parse(l) as { level: number; err?: { message: string } });
    expect(logged.filter((l) => l.level === 50 && /locked by another process/.test(l.err?.message ?? ''))).toHaveLength(
      1,
    );
    // The lock gone, writes go through again.
    expect(await typename(quick, DELETE, taskId, key)).toEqual(['DeleteTaskSuccess']);
  });
});
