// The run writes (claiming due times, leasing, ending and pruning runs) must
// change and answer exactly what the same operations through Prisma do, every
// field and type, refusals included. On SQLite that compares the prepared
// statements with Prisma; on PostgreSQL `h.db.write` already is Prisma, and
// the reads are also compared with Prisma without row locks.
// Operations that read the whole table (dueTasks, expiredRuns, pruneRuns) use
// times of their own year, so the other tests' rows never fall in their range.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HotWrites, prismaHotWrites, type TaskChanges } from '../src/db/client.js';
import type { Task, TaskRun } from '../src/db/models.js';
import type { RunEnd } from '../src/db/run-writes.js';
import { createHarness, type Harness } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

const postgres = () => h.db.provider === 'postgresql';
const hot = <T>(op: (w: HotWrites) => Promise<T>) => h.db.write(op);
const prisma = <T>(op: (w: HotWrites) => Promise<T>, locks = postgres()) =>
  h.db.transaction((tx) => op(prismaHotWrites(tx, { postgres: locks })));

/**
 * Runs `op` through the database's hot writes, then through Prisma, on the
 * same rows. One after the other: on PostgreSQL concurrent readers that lock
 * would skip each other's rows.
 */
async function both<T>(op: (w: HotWrites) => Promise<T>): Promise<[hot: T, prisma: T]> {
  return [await hot(op), await prisma(op)];
}

/** The answers of `op` through hot writes, Prisma, and Prisma without row locks, by name. */
async function paths<T>(op: (w: HotWrites) => Promise<T>): Promise<[string, T][]> {
  return [
    ['hot writes', await hot(op)],
    ['Prisma', await prisma(op)],
    ['Prisma without row locks', await prisma(op, false)],
  ];
}

/** Reads through hot writes, Prisma, and Prisma without row locks (the same as Prisma on SQLite): one answer. */
async function oneAnswer<T>(op: (w: HotWrites) => Promise<T>): Promise<T> {
  const [a, b] = await both(op);
  const c = await prisma(op, false);
  expect(b).toEqual(a);
  expect(c).toEqual(a);
  return a;
}

const ms = (iso: string) => new Date(iso);
const createdAt = ms('2026-01-02T03:04:05.678Z');

/** A task with any stored fields, including those the harness does not seed. */
async function task(accountId: string, fields: Partial<Task> = {}): Promise<string> {
  const { failureStreak, lastRunId, lastRunAt, runs, crontab, ...seed } = fields;
  const id = await h.task(accountId, { name: 'twin', createdAt, ...seed });
  const extra = { failureStreak, lastRunId, lastRunAt, runs, crontab };
  if (Object.values(extra).some((v) => v !== undefined))
    await h.db.transaction((tx) => tx.task.update({ where: { id }, data: extra }));
  return id;
}

/** A run row as the dispatcher writes it; RUNNING with a lease by default. */
function runRow(t: { id: string; accountId: string }, fields: Partial<TaskRun> = {}): TaskRun {
  return {
    id: `${t.id}.r`,
    taskId: t.id,
    accountId: t.accountId,
    trigger: 'SCHEDULE',
    api: 'SCREENSHOT',
    query: 'url=https%3A%2F%2Fexample.com',
    scheduledFor: ms('2026-06-15T11:00:00.000Z'),
    startedAt: ms('2026-06-15T11:00:00.250Z'),
    finishedAt: null,
    durationMs: null,
    outcome: 'RUNNING',
    skipReason: null,
    attempts: 1,
    httpStatus: null,
    error: null,
    leaseUntil: ms('2026-06-15T11:00:35.250Z'),
    ...fields,
  };
}
const insert = (run: TaskRun) => h.db.transaction((tx) => tx.taskRun.create({ data: run }));

interface Twin {
  accountId: string;
  id: string;
}
/** Two identical tasks in two identical accounts, one per implementation. */
async function twins(fields: Partial<Task> = {}): Promise<[Twin, Twin]> {
  const made: Twin[] = [];
  for (let i = 0; i < 2; i++) {
    const { id: accountId } = await h.account();
    made.push({ accountId, id: await task(accountId, fields) });
  }
  return made as [Twin, Twin];
}

const readTask = (id: string) => h.db.read.task.findUniqueOrThrow({ where: { id } });
const readRun = (id: string) => h.db.read.taskRun.findUniqueOrThrow({ where: { id } });

/** A task row with its twin's identity replaced, so twins compare equal. */
function neutral(row: Task | null, twin: Twin) {
  if (!row) return row;
  expect(row.id).toBe(twin.id);
  expect(row.accountId).toBe(twin.accountId);
  return { ...row, id: '<id>', accountId: '<account>', lastRunId: row.lastRunId?.replace(twin.id, '<id>') ?? null };
}
function neutralRun(row: TaskRun, twin: Twin) {
  return { ...row, id: row.id.replace(twin.id, '<id>'), taskId: '<id>', accountId: '<account>' };
}

/**
 * Applies `op` to the first twin through hot writes and to the second through
 * Prisma; the answers and the rows after agree. The hot side's answer and row.
 */
async function twinOp<T>(pair: [Twin, Twin], op: (w: HotWrites, t: Twin) => Promise<T>) {
  const [a, b] = pair;
  const [hotAnswer, prismaAnswer] = await Promise.all([hot((w) => op(w, a)), prisma((w) => op(w, b))]);
  const [rowA, rowB] = [await readTask(a.id), await readTask(b.id)];
  expect(neutral(rowA, a)).toEqual(neutral(rowB, b));
  const shape = (answer: T, t: Twin) =>
    answer && typeof answer === 'object' && 'accountId' in answer ? neutral(answer as unknown as Task, t) : answer;
  expect(shape(hotAnswer, a)).toEqual(shape(prismaAnswer, b));
  return { answer: hotAnswer, row: rowA };
}

const DUE = ms('2026-06-15T11:00:00.000Z');
const NEXT = ms('2026-06-15T12:00:00.000Z');
const startOf = (t: Twin) => ({ runId: `${t.id}.r`, at: ms('2026-06-15T11:00:00.125Z') });

describe('advanceTask', () => {
  it('moves an ACTIVE task on from the due time it saw; nothing else changes', async () => {
    const pair = await twins({ nextRunAt: DUE, runs: 4, failureStreak: 2 });
    const before = await readTask(pair[0].id);
    const { answer, row } = await twinOp(pair, (w, t) => w.advanceTask(t.id, DUE, NEXT, null));
    expect(answer).toBe(true);
    expect(row).toEqual({ ...before, nextRunAt: NEXT });
  });

  it('with a start: also marks it in progress, counts the run and makes it the last run', async () => {
    const pair = await twins({ nextRunAt: DUE, runs: 4, failureStreak: 2 });
    const before = await readTask(pair[0].id);
    const { answer, row } = await twinOp(pair, (w, t) => w.advanceTask(t.id, DUE, NEXT, startOf(t)));
    expect(answer).toBe(true);
    expect(row).toEqual({
      ...before,
      nextRunAt: NEXT,
      inProgress: true,
      runs: 5,
      lastRunAt: ms('2026-06-15T11:00:00.125Z'),
      lastRunId: `${pair[0].id}.r`,
    });
  });

  it('to no next time (the crontab stopped firing)', async () => {
    const pair = await twins({ nextRunAt: DUE });
    const { answer, row } = await twinOp(pair, (w, t) => w.advanceTask(t.id, DUE, null, null));
    expect([answer, row.nextRunAt, row.status]).toEqual([true, null, 'ACTIVE']);
  });

  it('refuses a stale due time (another dispatcher claimed it): nothing changes', async () => {
    const pair = await twins({ nextRunAt: DUE });
    const before = await readTask(pair[0].id);
    for (const seen of [ms('2026-06-15T10:00:00.000Z'), ms('2026-06-15T11:00:00.001Z')]) {
      for (const start of [false, true]) {
        const { answer, row } = await twinOp(pair, (w, t) =>
          w.advanceTask(t.id, seen, NEXT, start ? startOf(t) : null),
        );
        expect(answer).toBe(false);
        expect(row).toEqual(before);
      }
    }
  });

  it('refuses to start while a run holds the task, but still moves it on without a start', async () => {
    const pair = await twins({ nextRunAt: DUE, inProgress: true, runs: 1 });
    const before = await readTask(pair[0].id);
    const refused = await twinOp(pair, (w, t) => w.advanceTask(t.id, DUE, NEXT, startOf(t)));
    expect(refused).toEqual({ answer: false, row: before });
    const moved = await twinOp(pair, (w, t) => w.advanceTask(t.id, DUE, NEXT, null));
    expect(moved).toEqual({ answer: true, row: { ...before, nextRunAt: NEXT } });
  });

  it('refuses a task that is no longer ACTIVE, even at the due time it saw', async () => {
    for (const status of ['PAUSED', 'CANCELLED', 'ERROR'] as const) {
      const pair = await twins({ status, nextRunAt: DUE });
      const before = await readTask(pair[0].id);
      for (const start of [false, true]) {
        const { answer, row } = await twinOp(pair, (w, t) => w.advanceTask(t.id, DUE, NEXT, start ? startOf(t) : null));
        expect([answer, row]).toEqual([false, before]);
      }
    }
    expect(await both((w) => w.advanceTask('missing', DUE, NEXT, null))).toEqual([false, false]);
  });
});

describe('startManualRun', () => {
  const at = ms('2026-06-15T12:34:56.789Z');
  const start = (t: Twin) => ({ runId: `${t.id}.m`, at });

  it('starts a task whose status is among `from` and answers it as stored', async () => {
    for (const status of ['ACTIVE', 'PAUSED', 'ERROR'] as const) {
      const pair = await twins({ status, runs: 2, nextRunAt: status === 'ACTIVE' ? NEXT : null, failureStreak: 1 });
      const before = await readTask(pair[0].id);
      const { answer, row } = await twinOp(pair, (w, t) =>
        w.startManualRun(t.accountId, t.id, ['ACTIVE', 'PAUSED', 'ERROR'], start(t)),
      );
      expect(answer).toEqual(row);
      expect(row).toEqual({ ...before, inProgress: true, runs: 3, lastRunAt: at, lastRunId: `${pair[0].id}.m` });
    }
  });

  it('answers null and changes nothing: status not in `from`, in progress, or another account', async () => {
    const cases: [Partial<Task>, readonly Task['status'][], boolean][] = [
      [{ status: 'CANCELLED', nextRunAt: null }, ['ACTIVE', 'PAUSED'], false],
      [{ status: 'PAUSED', nextRunAt: null }, ['ACTIVE'], false],
      [{ status: 'ACTIVE' }, [], false],
      [{ status: 'ACTIVE', inProgress: true }, ['ACTIVE', 'PAUSED'], false],
      [{ status: 'ACTIVE' }, ['ACTIVE'], true],
    ];
    for (const [fields, from, otherAccount] of cases) {
      const pair = await twins(fields);
      const before = await readTask(pair[0].id);
      const { answer, row } = await twinOp(pair, (w, t) =>
        w.startManualRun(otherAccount ? pair[1 - pair.indexOf(t)]!.accountId : t.accountId, t.id, from, start(t)),
      );
      expect([answer, row]).toEqual([null, before]);
    }
  });
});

describe('insertRun', () => {
  it('stores every field and type as Prisma does (nulls, enums, times to the ms)', async () => {
    const pair = await twins();
    const variants = (t: Twin): TaskRun[] => [
      runRow(t, { id: `${t.id}.running`, trigger: 'MANUAL', attempts: 0 }),
      runRow(t, {
        id: `${t.id}.failed`,
        finishedAt: ms('2026-06-15T11:00:31.999Z'),
        durationMs: 31_749,
        outcome: 'FAILED',
        attempts: 3,
        httpStatus: 502,
        error: 'HTTP 502: Bad gateway — « upstream » 😬',
        leaseUntil: null,
      }),
      runRow(t, {
        id: `${t.id}.skipped`,
        scheduledFor: ms('2026-06-15T10:00:00.000Z'),
        startedAt: null,
        finishedAt: ms('2026-06-15T11:00:00.001Z'),
        outcome: 'SKIPPED',
        skipReason: 'MISSED',
        attempts: 0,
        error: '',
        leaseUntil: null,
      }),
    ];
    const [a, b] = pair;
    for (const [runA, runB] of variants(a).map((r, i) => [r, variants(b)[i]!] as const)) {
      const answers = await Promise.all([hot((w) => w.insertRun(runA)), prisma((w) => w.insertRun(runB))]);
      expect(answers).toEqual([undefined, undefined]);
      expect(await readRun(runA.id)).toEqual(runA);
      expect(neutralRun(await readRun(runA.id), a)).toEqual(neutralRun(await readRun(runB.id), b));
    }
  });

  it('refuses a second run with the same id, on either side', async () => {
    const [a] = await twins();
    await hot((w) => w.insertRun(runRow(a, { id: `${a.id}.dup` })));
    await expect(hot((w) => w.insertRun(runRow(a, { id: `${a.id}.dup` })))).rejects.toThrow();
    await expect(prisma((w) => w.insertRun(runRow(a, { id: `${a.id}.dup` })))).rejects.toThrow();
  });
});

describe('leaseRun and finishRun', () => {
  const lease = ms('2026-06-15T11:00:35.250Z');
  const renewed = ms('2026-06-15T11:01:10.500Z');

  async function runningTwins() {
    const pair = await twins({ inProgress: true });
    for (const t of pair) await insert(runRow(t));
    return pair;
  }
  /** `op` on the first twin's run through hot writes, on the second's through Prisma; the runs after agree. */
  async function twinRunOp(pair: [Twin, Twin], op: (w: HotWrites, runId: string) => Promise<boolean>) {
    const [a, b] = pair;
    const answers = await Promise.all([hot((w) => op(w, `${a.id}.r`)), prisma((w) => op(w, `${b.id}.r`))]);
    expect(answers[0]).toBe(answers[1]);
    const [runA, runB] = [await readRun(`${a.id}.r`), await readRun(`${b.id}.r`)];
    expect(neutralRun(runA, a)).toEqual(neutralRun(runB, b));
    return { answer: answers[0], run: runA };
  }

  it('leases a RUNNING run only at the lease it saw', async () => {
    const pair = await runningTwins();
    const before = await readRun(`${pair[0].id}.r`);
    const stale = await twinRunOp(pair, (w, id) => w.leaseRun(id, ms('2026-06-15T11:00:35.251Z'), renewed, 2));
    expect(stale).toEqual({ answer: false, run: before });
    const taken = await twinRunOp(pair, (w, id) => w.leaseRun(id, lease, renewed, 2));
    expect(taken).toEqual({ answer: true, run: { ...before, leaseUntil: renewed, attempts: 2 } });
    // The lease it saw has moved on: a second dispatcher with the old one loses.
    expect((await twinRunOp(pair, (w, id) => w.leaseRun(id, lease, renewed, 3))).answer).toBe(false);
    expect(await both((w) => w.leaseRun('missing', lease, renewed, 2))).toEqual([false, false]);
  });

  it('ends a RUNNING run only with its lease, once, every outcome', async () => {
    const ends: RunEnd[] = [
      {
        outcome: 'SUCCEEDED',
        finishedAt: ms('2026-06-15T11:00:01.750Z'),
        durationMs: 1_500,
        attempts: 1,
        httpStatus: 204,
        error: null,
      },
      {
        outcome: 'FAILED',
        finishedAt: ms('2026-06-15T11:00:09.001Z'),
        durationMs: 8_751,
        attempts: 3,
        httpStatus: 500,
        error: 'HTTP 500: boom',
      },
      {
        outcome: 'FAILED',
        finishedAt: ms('2026-06-15T11:00:02.000Z'),
        durationMs: null,
        attempts: 2,
        httpStatus: null,
        error: 'Request failed: ECONNREFUSED',
      },
      {
        outcome: 'TIMED_OUT',
        finishedAt: ms('2026-06-15T11:00:30.300Z'),
        durationMs: 30_050,
        attempts: 1,
        httpStatus: null,
        error: 'No answer within 30s.',
      },
    ];
    for (const end of ends) {
      const pair = await runningTwins();
      const before = await readRun(`${pair[0].id}.r`);
      const wrong = await twinRunOp(pair, (w, id) => w.finishRun(id, renewed, end));
      expect(wrong).toEqual({ answer: false, run: before });
      const ended = await twinRunOp(pair, (w, id) => w.finishRun(id, lease, end));
      expect(ended).toEqual({ answer: true, run: { ...before, ...end, leaseUntil: null } });
      // Ended: neither a second end nor a lease applies to it any more.
      expect((await twinRunOp(pair, (w, id) => w.finishRun(id, lease, end))).answer).toBe(false);
      expect((await twinRunOp(pair, (w, id) => w.leaseRun(id, lease, renewed, 2))).answer).toBe(false);
    }
  });
});

describe('releaseTask and setTaskError', () => {
  it('release: not in progress, the failure streak grows on failure and restarts on success, nothing else moves', async () => {
    const pair = await twins({ inProgress: true, nextRunAt: NEXT, version: 3 });
    const before = await readTask(pair[0].id);
    // Each release ends a run: the task is in progress again before it (the first already is).
    let first = true;
    const release = async (failed: boolean, failureStreak: number) => {
      if (!first)
        for (const t of pair)
          await h.db.transaction((tx) => tx.task.update({ where: { id: t.id }, data: { inProgress: true } }));
      first = false;
      const { answer, row } = await twinOp(pair, (w, t) => w.releaseTask(t.id, failed));
      expect(answer).toEqual(row);
      expect(row).toEqual({ ...before, inProgress: false, failureStreak });
    };
    await release(true, 1);
    await release(true, 2);
    await release(false, 0);
    // The streak is data: deciding when it turns a task ERROR is the services' (runs/lease.ts).
    for (let n = 1; n <= 6; n++) await release(true, n);
  });

  it('setTaskError: an ACTIVE task becomes ERROR with no next run and a new version; any other is left alone', async () => {
    const pair = await twins({ nextRunAt: NEXT, version: 3, failureStreak: 5 });
    const before = await readTask(pair[0].id);
    const { answer, row } = await twinOp(pair, (w, t) => w.setTaskError(t.id));
    expect(answer).toEqual(row);
    expect(row).toEqual({ ...before, status: 'ERROR', nextRunAt: null, version: 4 });
    for (const status of ['PAUSED', 'CANCELLED', 'ERROR'] as const) {
      const others = await twins({ status, nextRunAt: null, failureStreak: 5 });
      const unchanged = await readTask(others[0].id);
      const { answer: none, row: after } = await twinOp(others, (w, t) => w.setTaskError(t.id));
      expect([none, after]).toEqual([null, unchanged]);
    }
  });

  it('answers null for a task that is gone', async () => {
    expect(await both((w) => w.releaseTask('missing', true))).toEqual([null, null]);
    expect(await both((w) => w.releaseTask('missing', false))).toEqual([null, null]);
    expect(await both((w) => w.setTaskError('missing'))).toEqual([null, null]);
  });
});

describe('updateTaskIf and the runs bookkeeping', () => {
  const change = (fields: Partial<TaskChanges>): TaskChanges => ({
    name: 'renamed',
    api: 'SCRAPE',
    query: 'url=https%3A%2F%2Fexample.org',
    frequency: 'CUSTOM',
    crontab: '*/5 * * * *',
    timezone: 'Europe/Berlin',
    status: 'ACTIVE',
    nextRunAt: undefined,
    ...fields,
  });
  const bookkeeping = {
    inProgress: true,
    runs: 9,
    lastRunAt: ms('2026-06-15T11:00:00.125Z'),
    failureStreak: 2,
    nextRunAt: NEXT,
  };

  it('keeps nextRunAt when undefined and the streak when the status stays', async () => {
    const pair = await twins(bookkeeping);
    // lastRunId is unique: one value per twin.
    for (const t of pair)
      await h.db.transaction((tx) => tx.task.update({ where: { id: t.id }, data: { lastRunId: `${t.id}.r` } }));
    const before = await readTask(pair[0].id);
    const to = change({});
    const { answer, row } = await twinOp(pair, (w, t) => w.updateTaskIf(t.accountId, t.id, 1, to));
    expect(answer).toEqual(row);
    const { nextRunAt: _, ...fields } = to;
    expect(row).toEqual({ ...before, ...fields, version: 2 });
    expect(row).toMatchObject({ nextRunAt: NEXT, failureStreak: 2, runs: 9, lastRunId: `${pair[0].id}.r` });
  });

  it('restarts the streak on a change of status, with or without a nextRunAt', async () => {
    const pair = await twins(bookkeeping);
    const before = await readTask(pair[0].id);
    const paused = await twinOp(pair, (w, t) =>
      w.updateTaskIf(t.accountId, t.id, 1, change({ status: 'PAUSED', nextRunAt: null })),
    );
    expect(paused.row).toMatchObject({ status: 'PAUSED', nextRunAt: null, failureStreak: 0, version: 2 });
    for (const t of pair)
      await h.db.transaction((tx) => tx.task.update({ where: { id: t.id }, data: { failureStreak: 4 } }));
    const resumeAt = ms('2026-06-15T12:05:00.000Z');
    const resumed = await twinOp(pair, (w, t) =>
      w.updateTaskIf(t.accountId, t.id, 2, change({ status: 'ACTIVE', nextRunAt: resumeAt })),
    );
    expect(resumed.row).toEqual({
      ...before,
      ...change({}),
      nextRunAt: resumeAt,
      failureStreak: 0,
      version: 3,
    });
    // A status change with nextRunAt undefined keeps the stored one too.
    const errored = await twinOp(pair, (w, t) => w.updateTaskIf(t.accountId, t.id, 3, change({ status: 'ERROR' })));
    expect(errored.row).toMatchObject({ status: 'ERROR', nextRunAt: resumeAt, failureStreak: 0, version: 4 });
  });

  it('changes nothing at another version, not even the streak', async () => {
    const pair = await twins(bookkeeping);
    const before = await readTask(pair[0].id);
    const { answer, row } = await twinOp(pair, (w, t) =>
      w.updateTaskIf(t.accountId, t.id, 2, change({ status: 'PAUSED', nextRunAt: null })),
    );
    expect([answer, row]).toEqual([null, before]);
  });
});

describe('dueTasks', () => {
  // 2002: no other test's task is due then.
  const now = ms('2002-01-01T00:05:00.000Z');
  let expected: string[] = [];
  beforeAll(async () => {
    const scale = await h.account({ plan: 'SCALE', billing: 'OK' });
    const free = await h.account({ plan: 'FREE', billing: 'UNPAID' });
    const at = (iso: string) => ms(`2002-01-01T${iso}Z`);
    await task(free.id, { id: 'dq1c', nextRunAt: at('00:00:00.000'), api: 'PDF' });
    // Inserted out of id order: a tie must still be broken by id.
    await task(scale.id, { id: 'dq2b', nextRunAt: at('00:01:00.000'), runs: 3, failureStreak: 2 });
    await task(scale.id, { id: 'dq2a', nextRunAt: at('00:01:00.000'), inProgress: true });
    await task(scale.id, { id: 'dq3a', nextRunAt: now });
    // Not due: later by 1 ms, not ACTIVE, or no next run.
    await task(scale.id, { id: 'dq4a', nextRunAt: at('00:05:00.001') });
    await task(scale.id, { id: 'dq5a', status: 'PAUSED', nextRunAt: at('00:00:00.000') });
    await task(scale.id, { id: 'dq5b', status: 'ERROR', nextRunAt: at('00:00:00.000') });
    await task(scale.id, { id: 'dq5c', status: 'CANCELLED', nextRunAt: at('00:00:00.000') });
    await task(scale.id, { id: 'dq5d', nextRunAt: null });
    expected = ['dq1c', 'dq2a', 'dq2b', 'dq3a'];
  });

  it('answers ACTIVE tasks due at or before now, earliest first (then by id), in progress or not', async () => {
    const due = await oneAnswer((w) => w.dueTasks(now, 100));
    expect(due.map((d) => d.task.id)).toEqual(expected);
    for (const d of due) expect(d.task).toEqual(await readTask(d.task.id));
    expect(due.map((d) => [d.plan, d.billing])).toEqual([
      ['FREE', 'UNPAID'],
      ['SCALE', 'OK'],
      ['SCALE', 'OK'],
      ['SCALE', 'OK'],
    ]);
  });

  it('answers at most `limit`, and nothing before the first due time', async () => {
    // The limit falls inside a tie (dq2a, dq2b): the same first two on every path.
    for (const [path, answer] of await paths((w) => w.dueTasks(now, 2)))
      expect(
        answer.map((d) => d.task.id),
        path,
      ).toEqual(expected.slice(0, 2));
    expect(await oneAnswer((w) => w.dueTasks(ms('2001-12-31T23:59:59.999Z'), 100))).toEqual([]);
  });

  it('skips the rows another dispatcher holds on PostgreSQL; SQLite has one writer', async () => {
    if (!postgres()) {
      // SQLite's writes take turns: whole transactions, nothing to skip.
      expect((await hot((w) => w.dueTasks(now, 100))).map((d) => d.task.id)).toEqual(expected);
      return;
    }
    const ids = await holding('Task', 'dq2a', () => hot((w) => w.dueTasks(now, 100)));
    expect(ids.map((d) => d.task.id)).toEqual(['dq1c', 'dq2b', 'dq3a']);
  });

  it("skips, without waiting, the tasks whose account row a mutation holds on PostgreSQL (it may wait for the task's)", async () => {
    if (!postgres()) {
      expect((await hot((w) => w.dueTasks(now, 100))).map((d) => d.task.id)).toEqual(expected);
      return;
    }
    const scale = await readTask('dq3a');
    const started = Date.now();
    // The batch fills with tasks it can claim: the held account's are not in it, even as the earliest.
    const due = await holding('Account', scale.accountId, () => hot((w) => w.dueTasks(now, 2)));
    expect(due.map((d) => d.task.id)).toEqual(['dq1c']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

/**
 * Runs `fn` while another transaction holds the row lock of `table`'s row
 * `id` (PostgreSQL only), and answers what `fn` answered without waiting.
 */
async function holding<T>(table: 'Task' | 'Account' | 'TaskRun', id: string, fn: () => Promise<T>): Promise<T> {
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => {
    locked = r;
  });
  const holder = h.db.transaction(async (tx) => {
    await tx.$queryRawUnsafe(`SELECT id FROM "${table}" WHERE id = $1 FOR UPDATE`, id);
    locked();
    await held;
  });
  await isLocked;
  try {
    return await fn();
  } finally {
    release();
    await holder;
  }
}

describe('expiredRuns', () => {
  // 2003: no other test's lease ends then.
  const now = ms('2003-01-01T00:05:00.000Z');
  const at = (iso: string) => ms(`2003-01-01T${iso}Z`);
  let runs: TaskRun[] = [];
  beforeAll(async () => {
    const { id: accountId } = await h.account();
    const pdf = { accountId, id: await task(accountId, { api: 'PDF', inProgress: true }) };
    const shot = { accountId, id: await task(accountId, { api: 'SCREENCAST', inProgress: true }) };
    // Each run carries the request it was claimed with (here its task's api).
    const r = (t: Twin, id: string, fields: Partial<TaskRun>) =>
      runRow(t, {
        id,
        api: t === pdf ? 'PDF' : 'SCREENCAST',
        scheduledFor: at('00:00:00.000'),
        startedAt: at('00:00:00.100'),
        ...fields,
      });
    runs = [
      r(shot, 'ex1b', { leaseUntil: at('00:01:00.000'), attempts: 0, startedAt: null, trigger: 'MANUAL' }),
      // Inserted out of id order: a tie must still be broken by id.
      r(pdf, 'ex2b', { leaseUntil: at('00:02:00.000'), attempts: 1 }),
      r(pdf, 'ex2a', { leaseUntil: at('00:02:00.000'), attempts: 2 }),
      r(shot, 'ex3a', { leaseUntil: now }),
      // Not expired: held 1 ms longer, or no longer RUNNING.
      r(pdf, 'ex4a', { leaseUntil: at('00:05:00.001') }),
      r(pdf, 'ex5a', { outcome: 'FAILED', leaseUntil: at('00:00:30.000'), finishedAt: at('00:00:30.000') }),
      r(pdf, 'ex5b', { outcome: 'SUCCEEDED', leaseUntil: null, finishedAt: at('00:00:30.000') }),
    ];
    for (const run of runs) await insert(run);
  });
  const byId = (id: string) => runs.find((r) => r.id === id)!;

  it('answers RUNNING runs whose lease ended at or before now, earliest first (then by id), with their request', async () => {
    const expired = await oneAnswer((w) => w.expiredRuns(now, 100));
    expect(expired).toEqual([
      { run: byId('ex1b'), task: { api: 'SCREENCAST', query: 'url=https%3A%2F%2Fexample.com' } },
      { run: byId('ex2a'), task: { api: 'PDF', query: 'url=https%3A%2F%2Fexample.com' } },
      { run: byId('ex2b'), task: { api: 'PDF', query: 'url=https%3A%2F%2Fexample.com' } },
      { run: byId('ex3a'), task: { api: 'SCREENCAST', query: 'url=https%3A%2F%2Fexample.com' } },
    ]);
  });

  it('answers at most `limit`, and nothing before the first lease ends', async () => {
    expect((await oneAnswer((w) => w.expiredRuns(now, 3))).map((e) => e.run.id)).toEqual(['ex1b', 'ex2a', 'ex2b']);
    // The limit falls inside a tie (ex2a, ex2b): the same first two on every path.
    for (const [path, answer] of await paths((w) => w.expiredRuns(now, 2)))
      expect(
        answer.map((e) => e.run.id),
        path,
      ).toEqual(['ex1b', 'ex2a']);
    expect(await oneAnswer((w) => w.expiredRuns(at('00:00:59.999'), 100))).toEqual([]);
  });

  it('skips the runs another dispatcher holds on PostgreSQL; SQLite has one writer', async () => {
    if (!postgres()) {
      expect((await hot((w) => w.expiredRuns(now, 100))).map((e) => e.run.id)).toEqual([
        'ex1b',
        'ex2a',
        'ex2b',
        'ex3a',
      ]);
      return;
    }
    const expired = await holding('TaskRun', 'ex2a', () => hot((w) => w.expiredRuns(now, 100)));
    expect(expired.map((e) => e.run.id)).toEqual(['ex1b', 'ex2b', 'ex3a']);
  });
});

describe('pruneRuns', () => {
  // 2000: no other test's run ended then. Each side gets its own copy of the
  // same runs, one after the other (pruning reads the whole table); what one
  // side keeps stays kept for the other.
  const before = ms('2000-03-01T00:00:00.000Z');
  const at = (iso: string) => ms(`2000-${iso}Z`);

  async function seed(tag: string) {
    const { id: accountId } = await h.account();
    const t = { accountId, id: await task(accountId, { nextRunAt: null, status: 'PAUSED' }) };
    const other = { accountId, id: await task(accountId, { nextRunAt: null, status: 'PAUSED' }) };
    const ended = (id: string, finishedAt: string, fields: Partial<TaskRun> = {}) =>
      runRow(t, {
        id: `${tag}.${id}`,
        scheduledFor: at('01-01T00:00:00.000'),
        startedAt: at('01-01T00:00:00.000'),
        finishedAt: at(finishedAt),
        outcome: 'SUCCEEDED',
        leaseUntil: null,
        ...fields,
      });
    const rows = [
      ended('old-ok', '01-01T00:00:01.000'),
      ended('old-failed', '01-02T00:00:01.000', { outcome: 'FAILED', httpStatus: 500, error: 'x' }),
      ended('old-skipped', '02-29T23:59:59.999', { outcome: 'SKIPPED', skipReason: 'OVERLAP', startedAt: null }),
      ended('old-timed-out', '01-03T00:00:00.000', { outcome: 'TIMED_OUT' }),
      // Kept: RUNNING (whatever its finishedAt says), not older than `before`, a task's last run.
      ended('running', '01-01T00:00:00.000', { outcome: 'RUNNING', leaseUntil: at('01-01T00:00:35.000') }),
      ended('at-before', '03-01T00:00:00.000'),
      ended('newer', '06-01T00:00:00.000'),
      ended('last-of-task', '01-01T00:00:00.000', { outcome: 'FAILED' }),
      { ...ended('last-of-other', '01-01T00:00:00.000'), taskId: other.id },
    ];
    for (const run of rows) await insert(run);
    await h.db.transaction(async (tx) => {
      await tx.task.update({ where: { id: t.id }, data: { lastRunId: `${tag}.last-of-task` } });
      await tx.task.update({ where: { id: other.id }, data: { lastRunId: `${tag}.last-of-other` } });
    });
    return { t, other };
  }
  const left = async (tag: string) =>
    (await h.db.read.taskRun.findMany({ where: { id: { startsWith: `${tag}.` } }, orderBy: { id: 'asc' } })).map(
      (r) => ({ ...r, id: r.id.slice(tag.length + 1), taskId: '<task>', accountId: '<account>' }),
    );

  it('deletes ended runs finished before `before`, up to `limit`, keeping RUNNING, newer and last runs', async () => {
    const counts: Record<string, number[]> = {};
    for (const [tag, through] of [
      ['hot', hot],
      ['prisma', prisma],
    ] as const) {
      await seed(tag);
      counts[tag] = [];
      for (const limit of [3, 3, 3]) counts[tag]!.push(await through((w) => w.pruneRuns(before, limit)));
    }
    expect(counts).toEqual({ hot: [3, 1, 0], prisma: [3, 1, 0] });
    const kept = await left('hot');
    expect(kept).toEqual(await left('prisma'));
    expect(kept.map((r) => r.id)).toEqual(['at-before', 'last-of-other', 'last-of-task', 'newer', 'running']);
  });

  it('deletes nothing with a limit of 0 or a `before` earlier than every run', async () => {
    await seed('none');
    expect(await both((w) => w.pruneRuns(before, 0))).toEqual([0, 0]);
    expect(await both((w) => w.pruneRuns(ms('1999-12-31T00:00:00.000Z'), 100))).toEqual([0, 0]);
    expect(await left('none')).toHaveLength(9);
  });
});
