// Runs meeting the schedule lifecycle, against a real executor that holds a
// request as long as the test says: overlap, runTask and its race,
// deleteTask/cancelSchedule/pauseSchedule while a run executes, and ERROR
// after repeated failures until resumeSchedule. Time moves on the harness clock.
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunSettings } from '../src/config.js';
import {
  CancelScheduleDocument,
  CreateTaskDocument,
  DeleteTaskDocument,
  PauseScheduleDocument,
  ResumeScheduleDocument,
  RunTaskDocument,
  TaskDocument,
  TaskRunsDocument,
} from '../src/generated/client/graphql.js';
import { type Executor, startExecutor } from './helpers/executor.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const LIMITS = { accountMax: 100_000, scheduleMax: 100_000 };
const OK = (_d: unknown, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
};
const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.NaN);
const deliveriesOf = (ex: Executor, taskId: string) => ex.deliveries.filter((d) => d.taskId === taskId);

/** Holds every request the executor receives until released. */
function hold(target: Executor) {
  const held: ServerResponse[] = [];
  let arrival = () => {};
  target.answer((_d, res) => {
    held.push(res);
    arrival();
  });
  return {
    async arrived(n = 1) {
      while (held.length < n) await new Promise<void>((resolve) => (arrival = resolve));
    },
    release() {
      target.answer(OK);
      for (const res of held.splice(0)) OK(null, res);
    },
  };
}

/** A harness on a real executor; every test leaves no ACTIVE task behind to fire in the next one. */
function setup(runs: Partial<RunSettings>) {
  const ctx = {} as { h: Harness; ex: Executor; gate?: ReturnType<typeof hold> };
  beforeAll(async () => {
    ctx.ex = await startExecutor();
    ctx.h = await createHarness({
      runs: { ...runs, executorUrl: ctx.ex.url, executorSecret: ctx.ex.secret },
      dispatcher: true,
      limits: LIMITS,
    });
  });
  afterAll(async () => {
    await ctx.h?.close();
    await ctx.ex?.close();
  });
  afterEach(async () => {
    ctx.gate?.release();
    ctx.gate = undefined;
    await ctx.h.dispatcher!.idle();
    // Nothing failed unexpectedly on the way (the harness logs errors only).
    expect(ctx.h.logLines.splice(0)).toEqual([]);
    ctx.ex.answer(OK);
    await ctx.h.db.transaction((tx) =>
      tx.task.updateMany({ where: { status: 'ACTIVE' }, data: { status: 'PAUSED', nextRunAt: null } }),
    );
  });
  const read = async (id: string, key: string) => narrow((await ctx.h.gql(TaskRunsDocument, { id }, key)).task, 'Task');
  const nextRunAt = async (id: string) =>
    (await ctx.h.db.read.task.findUniqueOrThrow({ where: { id } })).nextRunAt!.getTime();
  /** Holds the executor's requests; released at the latest after the test. */
  const holdRequests = () => {
    ctx.gate = hold(ctx.ex);
    return ctx.gate;
  };
  return { ctx, read, nextRunAt, holdRequests };
}

// A long timeout, so a request held by the test never times out, and a lease
// (timeout + 5 s) longer than a minute, so a run held across the next planned
// time of an every-minute task is still held by its dispatcher.
describe('while the executor holds a run', () => {
  const { ctx, read, nextRunAt, holdRequests } = setup({ timeoutMs: 60_000, retryBaseMs: 10, maxAttempts: 3 });
  const tick = () => ctx.h.dispatcher!.tick();
  const idle = () => ctx.h.dispatcher!.idle();

  it('a planned time that comes is SKIPPED (OVERLAP), the schedule moves on and the held run completes', async () => {
    const { h, ex } = ctx;
    const a = await h.account();
    const created = narrow(
      (
        await h.gql(
          CreateTaskDocument,
          {
            input: {
              name: 'minutely',
              api: 'SCRAPE',
              query: 'url=https%3A%2F%2Fexample.com',
              frequency: 'EVERY_MINUTE',
            },
          },
          a.key,
        )
      ).createTask,
      'CreateTaskSuccess',
    ).task;
    const id = created.id;
    const t0 = ms(created.nextRunAt);

    const gate = holdRequests();
    h.clock.ms = t0 + 1000;
    expect(await tick()).toMatchObject({ started: 1 });
    await gate.arrived();
    let t = await read(id, a.key);
    expect(t).toMatchObject({ inProgress: true, runs: 1 });
    expect(t.lastRun).toMatchObject({ outcome: 'RUNNING', attempts: 1, finishedAt: null, durationMs: null });
    const runId = t.lastRun!.id;

    h.clock.ms = t0 + MINUTE + 1000;
    expect(await tick()).toMatchObject({ handled: 1, started: 0, resumed: 0 });
    t = await read(id, a.key);
    expect(t.runHistory.edges.map((e) => [e.node.outcome, e.node.skipReason, ms(e.node.scheduledFor)])).toEqual([
      ['SKIPPED', 'OVERLAP', t0 + MINUTE],
      ['RUNNING', null, t0],
    ]);
    expect(t).toMatchObject({ inProgress: true, runs: 1 });
    expect(t.lastRun!.id).toBe(runId);
    expect(ms(t.nextRunAt)).toBe(t0 + 2 * MINUTE);

    gate.release();
    await idle();
    t = await read(id, a.key);
    expect(t.runHistory.edges.map((e) => [e.node.outcome, e.node.skipReason])).toEqual([
      ['SKIPPED', 'OVERLAP'],
      ['SUCCEEDED', null],
    ]);
    expect(t.lastRun).toMatchObject({ id: runId, outcome: 'SUCCEEDED', attempts: 1, httpStatus: 200 });
    expect(t).toMatchObject({ inProgress: false, runs: 1 });
    expect(deliveriesOf(ex, id)).toHaveLength(1);
    expect(deliveriesOf(ex, id)[0]!.url).toBe('/exec/scrape?url=https%3A%2F%2Fexample.com');

    // The next planned time runs again.
    h.clock.ms = t0 + 2 * MINUTE;
    expect(await tick()).toMatchObject({ started: 1 });
    await idle();
    expect(deliveriesOf(ex, id).map((d) => ms(d.scheduledFor))).toEqual([t0, t0 + 2 * MINUTE]);
  });

  it('deleteTask is InvalidStatus (inProgress) until the executor answers, then deletes', async () => {
    const { h, ex } = ctx;
    const a = await h.account();
    const id = await h.task(a.id);
    const gate = holdRequests();
    h.clock.ms = await nextRunAt(id);
    expect(await tick()).toMatchObject({ started: 1 });
    await gate.arrived();
    const quota = await h.quotaUsed(a.id);

    const refused = narrow((await h.gql(DeleteTaskDocument, { id }, a.key)).deleteTask, 'InvalidStatus');
    expect(refused).toMatchObject({ code: 'INVALID_STATUS', currentStatus: 'ACTIVE', inProgress: true });
    expect(await h.quotaUsed(a.id)).toBe(quota); // a refused change consumes nothing
    expect((await read(id, a.key)).inProgress).toBe(true);

    gate.release();
    await ctx.h.dispatcher!.idle();
    expect((await read(id, a.key)).lastRun).toMatchObject({ outcome: 'SUCCEEDED' });
    const deleted = narrow((await h.gql(DeleteTaskDocument, { id }, a.key)).deleteTask, 'DeleteTaskSuccess');
    expect(deleted.deletedId).toBe(id);
    narrow((await h.gql(TaskDocument, { id }, a.key)).task, 'NotFound');
    expect(deliveriesOf(ex, id)).toHaveLength(1);
  });

  for (const change of ['cancel', 'pause'] as const) {
    it(`${change}Schedule succeeds, lets the run finish and record its outcome, and stops later runs`, async () => {
      const { h, ex } = ctx;
      const a = await h.account();
      const id = await h.task(a.id);
      const version = (await read(id, a.key)).version;
      const planned = await nextRunAt(id);
      const gate = holdRequests();
      h.clock.ms = planned;
      expect(await tick()).toMatchObject({ started: 1 });
      await gate.arrived();

      const expected = change === 'cancel' ? 'CANCELLED' : 'PAUSED';
      const result =
        change === 'cancel'
          ? narrow((await h.gql(CancelScheduleDocument, { id }, a.key)).cancelSchedule, 'CancelScheduleSuccess')
          : narrow((await h.gql(PauseScheduleDocument, { id }, a.key)).pauseSchedule, 'PauseScheduleSuccess');
      expect(result).toMatchObject({ oldStatus: 'ACTIVE', newStatus: expected });
      expect(result.task).toMatchObject({ status: expected, inProgress: true, nextRunAt: null, version: version + 1 });

      gate.release();
      await idle();
      let t = await read(id, a.key);
      expect(t.lastRun).toMatchObject({ outcome: 'SUCCEEDED', trigger: 'SCHEDULE' });
      expect(ms(t.lastRun!.scheduledFor)).toBe(planned);
      // The run's end changes neither the status nor the version.
      expect(t).toMatchObject({ status: expected, inProgress: false, nextRunAt: null, runs: 1, version: version + 1 });

      h.clock.ms = planned + 3 * DAY;
      expect(await tick()).toMatchObject({ handled: 0, started: 0 });
      await idle();
      t = await read(id, a.key);
      expect(t.runHistory.edges).toHaveLength(1);
      expect(deliveriesOf(ex, id)).toHaveLength(1);
    });
  }
});

describe('runTask', () => {
  const { ctx, read, nextRunAt, holdRequests } = setup({ timeoutMs: 60_000, retryBaseMs: 10, maxAttempts: 3 });
  const idle = () => ctx.h.dispatcher!.idle();

  for (const status of ['ACTIVE', 'PAUSED', 'ERROR'] as const) {
    it(`starts a MANUAL run from ${status}, delivered and recorded, without moving nextRunAt`, async () => {
      const { h, ex } = ctx;
      const a = await h.account();
      const id = await h.task(a.id, status === 'ACTIVE' ? { status } : { status, nextRunAt: null, version: 3 });
      const before = await read(id, a.key);
      const quota = await h.quotaUsed(a.id);

      const ok = narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'RunTaskSuccess');
      expect(ok.run).toMatchObject({
        taskId: id,
        trigger: 'MANUAL',
        outcome: 'RUNNING',
        attempts: 1,
        finishedAt: null,
      });
      expect(ms(ok.run.scheduledFor)).toBe(h.clock.ms);
      expect(ms(ok.run.startedAt)).toBe(h.clock.ms);
      expect(ok.task).toMatchObject({ id, status, inProgress: true, runs: 1, lastRunAt: ok.run.startedAt });
      expect(ok.task.lastRun).toMatchObject({ id: ok.run.id, outcome: 'RUNNING' });
      expect(ok.task.nextRunAt).toBe(before.nextRunAt);
      await idle();

      const [d, ...more] = deliveriesOf(ex, id);
      expect(more).toHaveLength(0);
      expect(d).toMatchObject({ runId: ok.run.id, attempt: 1, signatureValid: true, accountId: a.id });
      expect(ms(d!.scheduledFor)).toBe(h.clock.ms);
      const t = await read(id, a.key);
      expect(t.lastRun).toMatchObject({ id: ok.run.id, trigger: 'MANUAL', outcome: 'SUCCEEDED', httpStatus: 200 });
      expect(t).toMatchObject({
        status,
        inProgress: false,
        runs: 1,
        nextRunAt: before.nextRunAt,
        version: before.version,
      });
      expect(await h.quotaUsed(a.id)).toBe(quota + 1);
    });
  }

  it('is InvalidStatus from CANCELLED and while a run is in progress, NotFound for unknown or foreign tasks', async () => {
    const { h, ex } = ctx;
    const a = await h.account();
    const stranger = await h.account();
    const cancelled = await h.task(a.id, { status: 'CANCELLED', nextRunAt: null });
    const id = await h.task(a.id);
    const foreign = await h.task(stranger.id);
    const quota = await h.quotaUsed(a.id);

    const fromCancelled = narrow((await h.gql(RunTaskDocument, { id: cancelled }, a.key)).runTask, 'InvalidStatus');
    expect(fromCancelled).toMatchObject({ code: 'INVALID_STATUS', currentStatus: 'CANCELLED', inProgress: false });
    for (const status of ['NON_EXISTING', 'CREATE_PENDING'] as const) {
      const other = await h.task(a.id, { status, nextRunAt: null });
      const refused = narrow((await h.gql(RunTaskDocument, { id: other }, a.key)).runTask, 'InvalidStatus');
      expect(refused).toMatchObject({ currentStatus: status, inProgress: false });
      expect(deliveriesOf(ex, other)).toHaveLength(0);
    }
    for (const missing of ['t-does-not-exist', foreign]) {
      expect(narrow((await h.gql(RunTaskDocument, { id: missing }, a.key)).runTask, 'NotFound').code).toBe('NOT_FOUND');
    }
    expect(await h.quotaUsed(a.id)).toBe(quota);

    const gate = holdRequests();
    narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'RunTaskSuccess');
    await gate.arrived();
    const busy = narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'InvalidStatus');
    expect(busy).toMatchObject({ currentStatus: 'ACTIVE', inProgress: true });
    gate.release();
    await idle();
    expect(await h.quotaUsed(a.id)).toBe(quota + 1);
    expect(deliveriesOf(ex, cancelled)).toHaveLength(0);
    expect(deliveriesOf(ex, foreign)).toHaveLength(0);
    expect(deliveriesOf(ex, id)).toHaveLength(1);
    // Once the run ended it can run again.
    narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'RunTaskSuccess');
    await idle();
    expect((await read(id, a.key)).runs).toBe(2);
  });

  it('20 concurrent calls for one task: 1 RunTaskSuccess, 19 InvalidStatus, 1 delivery, 1 unit of quota', async () => {
    const { h, ex } = ctx;
    const a = await h.account();
    const id = await h.task(a.id);
    const quota = await h.quotaUsed(a.id);
    const gate = holdRequests();

    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => (await h.gql(RunTaskDocument, { id }, a.key)).runTask),
    );
    const named = (n: string) => answers.filter((r) => r?.__typename === n);
    expect(named('RunTaskSuccess')).toHaveLength(1);
    expect(named('InvalidStatus')).toHaveLength(19);
    for (const r of named('InvalidStatus')) expect(r).toMatchObject({ currentStatus: 'ACTIVE', inProgress: true });
    await gate.arrived();
    expect(await h.quotaUsed(a.id)).toBe(quota + 1);

    gate.release();
    await idle();
    const ds = deliveriesOf(ex, id);
    expect(ds).toHaveLength(1);
    const t = await read(id, a.key);
    expect(t.runHistory.edges.map((e) => e.node.id)).toEqual([ds[0]!.runId]);
    expect(t).toMatchObject({ runs: 1, inProgress: false });
    expect(await h.quotaUsed(a.id)).toBe(quota + 1);
    // No slot was leaked by the refused calls.
    expect(h.dispatcher!.inFlight).toBe(0);
  });

  it('is QuotaExceeded when the account has no quota left, and nothing runs', async () => {
    const { h, ex } = ctx;
    const a = await h.account({ quotaLimit: 3, quotaUsed: 3 });
    const id = await h.task(a.id);
    const res = narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'QuotaExceeded');
    expect(res).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 3, used: 3 });
    const t = await read(id, a.key);
    expect(t).toMatchObject({ inProgress: false, runs: 0, lastRun: null });
    expect(t.runHistory.edges).toEqual([]);
    expect(deliveriesOf(ex, id)).toHaveLength(0);
  });

  it('on an instance that does not dispatch (SCHEDULER=off) queues the run for any dispatcher', async () => {
    const { h, ex } = ctx;
    // An API-only instance on the same database: an executor configured, no dispatcher of its own.
    const api = await createHarness({
      database: { url: h.url, drop: async () => {} },
      runs: { ...h.deps.runs },
      limits: LIMITS,
    });
    try {
      api.clock.ms = h.clock.ms;
      const a = await h.account();
      const id = await h.task(a.id);
      const ok = narrow((await api.gql(RunTaskDocument, { id }, a.key)).runTask, 'RunTaskSuccess');
      // Queued: no attempt made yet, and its lease already over so any dispatcher takes it now.
      expect(ok.run).toMatchObject({ outcome: 'RUNNING', attempts: 0, trigger: 'MANUAL' });
      expect(ok.task.inProgress).toBe(true);
      expect(deliveriesOf(ex, id)).toHaveLength(0);

      expect(await h.dispatcher!.tick()).toMatchObject({ resumed: 1, started: 0 });
      await idle();
      const [d, ...more] = deliveriesOf(ex, id);
      expect(more).toHaveLength(0);
      expect(d).toMatchObject({ runId: ok.run.id, attempt: 1, signatureValid: true });
      const t = await read(id, a.key);
      expect(t.lastRun).toMatchObject({ id: ok.run.id, outcome: 'SUCCEEDED', attempts: 1 });
      expect(t).toMatchObject({ inProgress: false, runs: 1 });
    } finally {
      await api.close();
    }
  });

  it('is SchedulerDisabled on a deployment without an executor, consuming nothing', async () => {
    const bare = await createHarness({ limits: LIMITS });
    try {
      const a = await bare.account();
      const id = await bare.task(a.id);
      const res = narrow((await bare.gql(RunTaskDocument, { id }, a.key)).runTask, 'SchedulerDisabled');
      expect(res.code).toBe('SCHEDULER_DISABLED');
      expect(await bare.quotaUsed(a.id)).toBe(0);
      const task = narrow((await bare.gql(TaskDocument, { id }, a.key)).task, 'Task');
      expect(task).toMatchObject({ inProgress: false, runs: 0, lastRunAt: null });
      expect(await bare.db.read.taskRun.count()).toBe(0);
    } finally {
      await bare.close();
    }
  });

  // Keeps nextRunAt honest: a manual run right before a planned time does not skip that time.
  it('leaves the planned time to run as planned', async () => {
    const { h, ex } = ctx;
    const a = await h.account();
    const id = await h.task(a.id);
    const planned = await nextRunAt(id);
    h.clock.ms = planned - MINUTE;
    narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'RunTaskSuccess');
    await idle();
    h.clock.ms = planned;
    expect(await ctx.h.dispatcher!.tick()).toMatchObject({ started: 1 });
    await idle();
    expect(deliveriesOf(ex, id).map((d) => ms(d.scheduledFor))).toEqual([planned - MINUTE, planned]);
  });
});

describe('repeated failures', () => {
  // One attempt per run and ERROR after 3 failed runs in a row.
  const { ctx, read, nextRunAt } = setup({ timeoutMs: 400, retryBaseMs: 10, maxAttempts: 1, failuresToError: 3 });

  it('turn the task ERROR after RUN_FAILURES_TO_ERROR in a row (a success resets the count) until resumeSchedule', async () => {
    const { h, ex } = ctx;
    const a = await h.account();
    const id = await h.task(a.id);
    const { version } = await read(id, a.key);
    const first = await nextRunAt(id);
    /** Runs the planned time of day `day` with the executor answering `status`. */
    const runDay = async (day: number, status: number) => {
      ex.status(status, status === 200 ? 'ok' : 'broken');
      h.clock.ms = first + day * DAY;
      expect(await h.dispatcher!.tick()).toMatchObject({ started: 1 });
      await h.dispatcher!.idle();
      return read(id, a.key);
    };

    expect((await runDay(0, 500)).consecutiveFailures).toBe(1);
    expect((await runDay(1, 200)).consecutiveFailures).toBe(0);
    expect((await runDay(2, 500)).consecutiveFailures).toBe(1);
    const twice = await runDay(3, 502);
    expect(twice).toMatchObject({ consecutiveFailures: 2, status: 'ACTIVE', version });

    const errored = await runDay(4, 500);
    expect(errored).toMatchObject({
      status: 'ERROR',
      enabled: false,
      nextRunAt: null,
      consecutiveFailures: 3,
      inProgress: false,
      runs: 5,
      version: version + 1,
    });
    expect(errored.lastRun).toMatchObject({ outcome: 'FAILED', attempts: 1, httpStatus: 500 });
    expect(errored.runHistory.edges.map((e) => e.node.outcome)).toEqual([
      'FAILED',
      'FAILED',
      'FAILED',
      'SUCCEEDED',
      'FAILED',
    ]);

    // No more runs, however long we wait.
    ex.status(200);
    h.clock.ms = first + 10 * DAY;
    expect(await h.dispatcher!.tick()).toMatchObject({ handled: 0, started: 0 });
    await h.dispatcher!.idle();
    expect(deliveriesOf(ex, id)).toHaveLength(5);

    const resumed = narrow(
      (await h.gql(ResumeScheduleDocument, { id }, a.key)).resumeSchedule,
      'ResumeScheduleSuccess',
    );
    expect(resumed).toMatchObject({ oldStatus: 'ERROR', newStatus: 'ACTIVE' });
    expect(resumed.task).toMatchObject({ status: 'ACTIVE', consecutiveFailures: 0, version: version + 2 });
    // Planned from now: the next midnight, not a burst of what was missed.
    expect(ms(resumed.task.nextRunAt)).toBe(first + 11 * DAY);

    const back = await runDay(11, 200);
    expect(back).toMatchObject({ status: 'ACTIVE', consecutiveFailures: 0, runs: 6 });
    expect(back.lastRun).toMatchObject({ outcome: 'SUCCEEDED' });
    expect(ms(back.nextRunAt)).toBe(first + 12 * DAY);
  });

  it('count TIMED_OUT runs too', async () => {
    const { h, ex } = ctx;
    const a = await h.account();
    const id = await h.task(a.id);
    const first = await nextRunAt(id);
    const held: ServerResponse[] = [];
    ex.answer((_d, res) => {
      held.push(res);
    });
    for (const day of [0, 1, 2]) {
      h.clock.ms = first + day * DAY;
      expect(await h.dispatcher!.tick()).toMatchObject({ started: 1 });
      await h.dispatcher!.idle();
    }
    for (const res of held) res.destroy();
    const t = await read(id, a.key);
    expect(t.runHistory.edges.map((e) => e.node.outcome)).toEqual(['TIMED_OUT', 'TIMED_OUT', 'TIMED_OUT']);
    expect(t).toMatchObject({ status: 'ERROR', consecutiveFailures: 3, nextRunAt: null });
  });
});
