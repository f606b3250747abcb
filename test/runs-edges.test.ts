// Edges of running schedules: runs whose dispatcher died or stopped, full
// slots, status changes while a run executes, the ERROR count, executor
// answers that are neither a clean 2xx nor a clean error, and the history's
// pages. Real executor, real database, the test clock for leases.
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunSettings } from '../src/config.js';
import { Dispatcher } from '../src/dispatcher/dispatcher.js';
import {
  CancelScheduleDocument,
  DeleteTaskDocument,
  PauseScheduleDocument,
  ResumeScheduleDocument,
  RunTaskDocument,
  type TaskRunFilter,
  TaskRunsDocument,
  UpdateTaskDocument,
} from '../src/generated/client/graphql.js';
import { createLogger } from '../src/logger.js';
import { claimDueRuns } from '../src/services/runs/claim.js';
import type { RunDeps } from '../src/services/runs/deps.js';
import { endRun, renewLease, takeOverRuns } from '../src/services/runs/lease.js';
import { leaseMs } from '../src/services/runs/policy.js';
import { type Executor, startExecutor } from './helpers/executor.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';
import { until } from './helpers/until.js';

/**
 * An executor answer the test finishes itself: requests are held until
 * `answerHeld` answers those held so far, or `release` answers them and every
 * later one with `code`.
 */
function holding(ex: Executor) {
  const held: ServerResponse[] = [];
  ex.answer((_d, res) => {
    held.push(res);
  });
  const answerHeld = (code = 200) => {
    for (const res of held.splice(0)) res.writeHead(code).end('{}');
  };
  return {
    held,
    answerHeld,
    release(code = 200) {
      ex.status(code, '{}');
      answerHeld(code);
    },
  };
}

async function setup(runs: Partial<RunSettings>, dispatcher = true) {
  const ex = await startExecutor();
  const h = await createHarness({
    runs: { executorUrl: ex.url, executorSecret: ex.secret, ...runs },
    dispatcher,
  });
  const deps: RunDeps = { db: h.db, clock: h.clock, runs: h.deps.runs, events: h.deps.events };
  return { ex, h, deps };
}

/** Each test starts with no task due: the earlier tests' daily tasks come due at the same times. */
async function clean(h: Harness): Promise<void> {
  await h.dispatcher?.idle();
  await h.db.transaction((tx) => tx.task.deleteMany({}));
}

const run = (h: Harness, id: string) => h.db.read.taskRun.findUniqueOrThrow({ where: { id } });
const task = (h: Harness, id: string) => h.db.read.task.findUniqueOrThrow({ where: { id } });

/** Moves the clock just past the task's nextRunAt. */
async function makeDue(h: Harness, id: string): Promise<void> {
  h.clock.ms = (await task(h, id)).nextRunAt!.getTime() + 100;
}

describe('runs whose dispatcher went away', () => {
  let ex: Executor;
  let h: Harness;
  let deps: RunDeps;
  beforeAll(async () => {
    ({ ex, h, deps } = await setup({ retryBaseMs: 5, timeoutMs: 400, maxAttempts: 2, failuresToError: 3 }));
  });
  afterEach(() => clean(h));
  afterAll(async () => {
    await h.close();
    await ex.close();
  });

  it('retries a run claimed by a dispatcher that died, with the same run id, once its lease ends', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    await makeDue(h, id);
    // A dispatcher claims the time and dies before calling the executor.
    const claimed = await claimDueRuns(deps, 10);
    expect(claimed.started).toHaveLength(1);
    const dead = claimed.started[0]!.run;
    const before = ex.deliveries.length;

    // While its lease lasts nobody touches it, and the task's time is taken.
    h.clock.advance(leaseMs(deps.runs) / 1000 - 0.5);
    expect(await h.dispatcher!.tick()).toMatchObject({ resumed: 0, started: 0, timedOut: 0 });
    expect((await task(h, id)).inProgress).toBe(true);

    h.clock.advance(1);
    expect(await h.dispatcher!.tick()).toMatchObject({ resumed: 1, started: 0 });
    await h.dispatcher!.idle();
    const got = ex.deliveries.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ runId: dead.id, taskId: id, attempt: 2, signatureValid: true });
    expect(await run(h, dead.id)).toMatchObject({ outcome: 'SUCCEEDED', attempts: 2, leaseUntil: null });
    expect(await task(h, id)).toMatchObject({ inProgress: false, runs: 1, lastRunId: dead.id, failureStreak: 0 });
  });

  it('ends TIMED_OUT a run whose last attempt never reported, counted as a failure', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    await makeDue(h, id);
    const dead = (await claimDueRuns(deps, 10)).started[0]!.run;
    // A second dispatcher takes it over for its last attempt and dies too.
    h.clock.advance(leaseMs(deps.runs) / 1000 + 0.1);
    expect((await takeOverRuns(deps, 10)).resumed.map((r) => r.run.id)).toEqual([dead.id]);
    const before = ex.deliveries.length;

    h.clock.advance(leaseMs(deps.runs) / 1000 + 0.1);
    expect(await h.dispatcher!.tick()).toMatchObject({ resumed: 0, timedOut: 1 });
    expect(ex.deliveries.length).toBe(before);
    const ended = await run(h, dead.id);
    expect(ended).toMatchObject({ outcome: 'TIMED_OUT', attempts: 2, leaseUntil: null });
    expect(ended.finishedAt?.getTime()).toBe(h.clock.ms);
    expect(ended.error).toMatch(/stopped before it reported/);
    const t = narrow((await h.gql(TaskRunsDocument, { id }, a.key)).task, 'Task');
    expect(t).toMatchObject({ inProgress: false, consecutiveFailures: 1, status: 'ACTIVE', version: 1 });
    expect(t.lastRun).toMatchObject({ id: dead.id, outcome: 'TIMED_OUT' });
  });

  it('never lets a dispatcher presumed dead record over the one that took its run over', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    await makeDue(h, id);
    const stale = (await claimDueRuns(deps, 10)).started[0]!.run;
    h.clock.advance(leaseMs(deps.runs) / 1000 + 0.1);
    expect((await h.dispatcher!.tick()).resumed).toBe(1);
    await h.dispatcher!.idle();
    expect((await run(h, stale.id)).outcome).toBe('SUCCEEDED');

    // The first dispatcher comes back with its result: nothing is written.
    expect(await renewLease(deps, stale, h.clock.ms + 60_000, 2)).toBeNull();
    const end = {
      outcome: 'FAILED' as const,
      finishedAt: new Date(h.clock.ms),
      durationMs: 5,
      attempts: 1,
      httpStatus: 500,
      error: 'HTTP 500',
    };
    expect(await endRun(deps, stale, end)).toBeNull();
    expect(await run(h, stale.id)).toMatchObject({ outcome: 'SUCCEEDED', attempts: 2, httpStatus: 200 });
    expect(await task(h, id)).toMatchObject({ inProgress: false, failureStreak: 0 });
  });
});

describe('a dispatcher that stops', () => {
  let ex: Executor;
  let h: Harness;
  const logger = createLogger('error', new Writable({ write: (_c, _e, done) => done() }));
  beforeAll(async () => {
    // A retry wait far longer than the test: stop() must not sit it out.
    ({ ex, h } = await setup({ retryBaseMs: 60_000, timeoutMs: 400, maxAttempts: 3 }, false));
  });
  afterEach(() => clean(h));
  afterAll(async () => {
    await h.close();
    await ex.close();
  });

  it('hands a run waiting for its retry to any other dispatcher at once', async () => {
    const deps = { db: h.db, clock: h.clock, runs: h.deps.runs, events: h.deps.events };
    const first = new Dispatcher({ deps, logger });
    const second = new Dispatcher({ deps, logger });
    const a = await h.account();
    const id = await h.task(a.id);
    await makeDue(h, id);
    ex.status(503, 'busy');
    expect((await first.tick()).started).toBe(1);
    const runId = (await task(h, id)).lastRunId!;
    // The first attempt failed and the run is held for the retry wait.
    const waitLease = h.clock.ms + leaseMs(deps.runs) + 30_000;
    await until('the retry wait', async () => ((await run(h, runId)).leaseUntil?.getTime() ?? 0) > waitLease);
    // Waiting to retry is not executing: the slot serves other runs meanwhile.
    expect(first.inFlight).toBe(0);

    const started = performance.now();
    await first.stop();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(first.inFlight).toBe(0);
    const handed = await run(h, runId);
    expect(handed).toMatchObject({ outcome: 'RUNNING', attempts: 1 });
    expect(handed.leaseUntil!.getTime()).toBeLessThanOrEqual(h.clock.ms);
    // A stopped dispatcher takes nothing more.
    expect(await first.tick()).toMatchObject({ resumed: 0, started: 0 });

    ex.status(200);
    expect((await second.tick()).resumed).toBe(1);
    await second.idle();
    const attempts = ex.deliveries.filter((d) => d.runId === runId).map((d) => d.attempt);
    expect(attempts).toEqual([1, 2]);
    expect(await run(h, runId)).toMatchObject({ outcome: 'SUCCEEDED', attempts: 2 });
    expect((await task(h, id)).inProgress).toBe(false);
    await second.stop();
  });
});

describe('full slots (EXECUTOR_CONCURRENCY 1)', () => {
  let ex: Executor;
  let h: Harness;
  beforeAll(async () => {
    ({ ex, h } = await setup({ retryBaseMs: 5, timeoutMs: 2_000, concurrency: 1 }));
  });
  afterEach(() => clean(h));
  afterAll(async () => {
    await h.close();
    await ex.close();
  });

  it('claims no more due times than free slots; the rest wait, still due', async () => {
    const gate = holding(ex);
    const a = await h.account();
    const ids = await h.tasks(a.id, [{}, {}, {}]);
    const due = (await task(h, ids[0]!)).nextRunAt!;
    h.clock.ms = due.getTime() + 100;
    const firstPass = await h.dispatcher!.tick();
    expect(firstPass).toMatchObject({ started: 1, handled: 1, full: true });
    await until('the first delivery', () => gate.held.length === 1);
    expect(await h.dispatcher!.tick()).toMatchObject({ started: 0, handled: 0, full: true });
    const waiting = await h.db.read.task.findMany({ where: { id: { in: ids }, inProgress: false } });
    expect(waiting.map((t) => t.nextRunAt?.getTime())).toEqual([due.getTime(), due.getTime()]);

    for (let n = 2; n <= 3; n++) {
      gate.answerHeld();
      await h.dispatcher!.idle();
      expect((await h.dispatcher!.tick()).started).toBe(1);
      await until(`delivery ${n}`, () => gate.held.length === 1);
    }
    gate.release();
    await h.dispatcher!.idle();
    const runs = await h.db.read.taskRun.findMany({ where: { taskId: { in: ids } } });
    expect(runs.map((r) => r.outcome)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(new Set(runs.map((r) => r.taskId)).size).toBe(3);
    ex.status(200);
  });

  it('queues a runTask when every slot is busy; the next pass makes its first attempt', async () => {
    const gate = holding(ex);
    const a = await h.account();
    // PAUSED: only runTask runs it (the claim takes the ACTIVE one).
    const [busy, queued] = await h.tasks(a.id, [{}, { status: 'PAUSED' }]);
    await makeDue(h, busy!);
    expect((await h.dispatcher!.tick()).started).toBe(1);
    await until('the busy delivery', () => gate.held.length === 1);

    const res = narrow((await h.gql(RunTaskDocument, { id: queued! }, a.key)).runTask, 'RunTaskSuccess');
    expect(res.run).toMatchObject({ outcome: 'RUNNING', trigger: 'MANUAL', attempts: 0 });
    expect(res.task).toMatchObject({ inProgress: true, status: 'PAUSED', nextRunAt: null });
    expect(await h.dispatcher!.tick()).toMatchObject({ resumed: 0, full: true });
    expect(ex.deliveries.filter((d) => d.runId === res.run.id)).toHaveLength(0);

    gate.release();
    await h.dispatcher!.idle();
    ex.status(200);
    expect((await h.dispatcher!.tick()).resumed).toBe(1);
    await h.dispatcher!.idle();
    const got = ex.deliveries.filter((d) => d.runId === res.run.id);
    expect(got.map((d) => [d.attempt, d.signatureValid, d.taskId])).toEqual([[1, true, queued]]);
    expect(new Date(got[0]!.scheduledFor).getTime()).toBe(new Date(res.run.scheduledFor).getTime());
    expect(await run(h, res.run.id)).toMatchObject({ outcome: 'SUCCEEDED', attempts: 1, trigger: 'MANUAL' });
  });
});

describe('status changes while a run executes', () => {
  let ex: Executor;
  let h: Harness;
  beforeAll(async () => {
    ({ ex, h } = await setup({ retryBaseMs: 5, timeoutMs: 2_000 }));
  });
  afterEach(() => clean(h));
  afterAll(async () => {
    await h.close();
    await ex.close();
  });

  it('pauseSchedule lets the run finish and stops later ones; deleteTask waits for the end', async () => {
    const gate = holding(ex);
    const a = await h.account();
    const id = await h.task(a.id);
    await makeDue(h, id);
    expect((await h.dispatcher!.tick()).started).toBe(1);
    await until('the delivery', () => gate.held.length === 1);

    const paused = narrow((await h.gql(PauseScheduleDocument, { id }, a.key)).pauseSchedule, 'PauseScheduleSuccess');
    expect(paused.task).toMatchObject({ status: 'PAUSED', inProgress: true, nextRunAt: null });
    const refused = narrow((await h.gql(DeleteTaskDocument, { id }, a.key)).deleteTask, 'InvalidStatus');
    expect(refused).toMatchObject({ inProgress: true, currentStatus: 'PAUSED' });

    gate.release();
    await h.dispatcher!.idle();
    const t = narrow((await h.gql(TaskRunsDocument, { id }, a.key)).task, 'Task');
    expect(t).toMatchObject({ status: 'PAUSED', inProgress: false, nextRunAt: null, runs: 1 });
    expect(t.lastRun?.outcome).toBe('SUCCEEDED');

    const delivered = ex.deliveries.length;
    h.clock.advance(3 * 86_400);
    expect(await h.dispatcher!.tick()).toMatchObject({ handled: 0, started: 0 });
    expect(ex.deliveries.length).toBe(delivered);
    narrow((await h.gql(DeleteTaskDocument, { id }, a.key)).deleteTask, 'DeleteTaskSuccess');
    ex.status(200);
  });

  it('cancelSchedule lets the run finish; the task stays CANCELLED and is never run again', async () => {
    const gate = holding(ex);
    const a = await h.account();
    const id = await h.task(a.id);
    await makeDue(h, id);
    expect((await h.dispatcher!.tick()).started).toBe(1);
    await until('the delivery', () => gate.held.length === 1);
    const cancelled = narrow(
      (await h.gql(CancelScheduleDocument, { id }, a.key)).cancelSchedule,
      'CancelScheduleSuccess',
    );
    expect(cancelled.task).toMatchObject({ status: 'CANCELLED', inProgress: true });

    gate.release(500);
    await until('the run to end', async () => (await task(h, id)).inProgress === false);
    await h.dispatcher!.idle();
    const t = narrow((await h.gql(TaskRunsDocument, { id }, a.key)).task, 'Task');
    // It failed, but a CANCELLED task never turns ERROR.
    expect(t).toMatchObject({ status: 'CANCELLED', inProgress: false, nextRunAt: null });
    expect(t.lastRun).toMatchObject({ outcome: 'FAILED', httpStatus: 500 });
    const again = narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'InvalidStatus');
    expect(again).toMatchObject({ currentStatus: 'CANCELLED', inProgress: false });
    ex.status(200);
  });
});

describe('ERROR after consecutive failures (RUN_FAILURES_TO_ERROR 2)', () => {
  let ex: Executor;
  let h: Harness;
  beforeAll(async () => {
    ({ ex, h } = await setup({ retryBaseMs: 5, timeoutMs: 1_000, maxAttempts: 2, failuresToError: 2 }));
  });
  afterEach(() => clean(h));
  afterAll(async () => {
    await h.close();
    await ex.close();
  });

  it('counts failures across triggers, and resumeSchedule restarts the count', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const runOnce = async () => {
      narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'RunTaskSuccess');
      await h.dispatcher!.idle();
      return narrow((await h.gql(TaskRunsDocument, { id }, a.key)).task, 'Task');
    };
    ex.status(500);
    // Runs do not change the definition: version stays.
    expect(await runOnce()).toMatchObject({ status: 'ACTIVE', consecutiveFailures: 1, version: 1 });
    const errored = await runOnce();
    expect(errored).toMatchObject({ status: 'ERROR', consecutiveFailures: 2, version: 2, nextRunAt: null });

    // runTask still runs an ERROR task; another failure does not bump the version again.
    expect(await runOnce()).toMatchObject({ status: 'ERROR', consecutiveFailures: 3, version: 2 });
    h.clock.advance(2 * 86_400);
    expect(await h.dispatcher!.tick()).toMatchObject({ handled: 0 });

    const resumed = narrow(
      (await h.gql(ResumeScheduleDocument, { id }, a.key)).resumeSchedule,
      'ResumeScheduleSuccess',
    );
    expect(resumed.task).toMatchObject({ status: 'ACTIVE', consecutiveFailures: 0 });
    expect(new Date(resumed.task.nextRunAt!).getTime()).toBeGreaterThan(h.clock.ms);
    // One failure after resuming is one, not the third of a streak.
    expect(await runOnce()).toMatchObject({ status: 'ACTIVE', consecutiveFailures: 1 });
    ex.status(200);
    expect(await runOnce()).toMatchObject({ status: 'ACTIVE', consecutiveFailures: 0 });
  });
});

describe('executor answers', () => {
  let ex: Executor;
  let h: Harness;
  beforeAll(async () => {
    ({ ex, h } = await setup({ retryBaseMs: 5, timeoutMs: 500, maxAttempts: 2 }));
  });
  afterEach(() => clean(h));
  afterAll(async () => {
    await h.close();
    await ex.close();
  });

  const runNow = async (a: { key: string }, id: string) => {
    const r = narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'RunTaskSuccess');
    await h.dispatcher!.idle();
    return { id: r.run.id, ended: await run(h, r.run.id) };
  };

  it('signs the query exactly as the executor receives it, whatever characters it holds', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const query = `url=https://example.com/a b?x=1&note="<é>'{ok}|^\`#frag\\&n=100%`;
    const updated = narrow(
      (await h.gql(UpdateTaskDocument, { id, input: { query } }, a.key)).updateTask,
      'UpdateTaskSuccess',
    );
    expect(updated.task.query).toBe(query);
    ex.status(200);
    const { id: runId, ended } = await runNow(a, id);
    expect(ended.outcome).toBe('SUCCEEDED');
    const [d] = ex.deliveries.filter((x) => x.runId === runId);
    expect(d).toMatchObject({ signatureValid: true, method: 'GET' });
    expect(d!.url.startsWith('/exec/screenshot?')).toBe(true);
    // The characters arrive, percent-encoded where URLs require it.
    expect(new URL(d!.url, 'http://x').searchParams.get('note')).toBe(`"<é>'{ok}|^\`#frag\\`);
  });

  it('counts a redirect as a failed attempt and does not follow it', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    ex.answer((_d, res) => {
      res.writeHead(302, { location: `${ex.url}/elsewhere` }).end();
    });
    const before = ex.deliveries.length;
    const { ended } = await runNow(a, id);
    expect(ended).toMatchObject({ outcome: 'FAILED', attempts: 2, httpStatus: 302 });
    expect(ex.deliveries.slice(before).map((d) => d.url.split('?')[0])).toEqual([
      '/exec/screenshot',
      '/exec/screenshot',
    ]);
    ex.status(200);
  });

  it('records a dropped connection as a failure without an HTTP status', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    ex.answer((_d, res) => {
      res.socket?.destroy();
    });
    const { ended } = await runNow(a, id);
    expect(ended).toMatchObject({ outcome: 'FAILED', attempts: 2, httpStatus: null });
    expect(ended.error).toMatch(/^Request failed: /);
    expect(ended.error!.length).toBeLessThanOrEqual(200);
    ex.status(200);
  });

  it('keeps one short line of a long, multi-line error answer', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    ex.status(502, `<html>\n<body>\r\n\t${'Bad gateway \u0000 '.repeat(2_000)}</body></html>`);
    const { ended } = await runNow(a, id);
    expect(ended).toMatchObject({ outcome: 'FAILED', httpStatus: 502 });
    expect(ended.error!.startsWith('HTTP 502: <html> <body> Bad gateway')).toBe(true);
    expect(ended.error!.length).toBeLessThanOrEqual(200);
    expect(ended.error).not.toMatch(/\p{Cc}/u);
    ex.status(200);
  });

  // The issue: "2xx within EXECUTOR_TIMEOUT_SECONDS → SUCCEEDED". The status
  // decides; waiting for the body of a success turns an accepted call into a
  // timeout and a second delivery.
  it('succeeds on a 2xx answered within the timeout even if its body is slow to end', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const open: ServerResponse[] = [];
    ex.answer((_d, res) => {
      // The status and the start of the body come at once; the rest never does.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"accepted":');
      open.push(res);
    });
    const before = ex.deliveries.length;
    const { ended } = await runNow(a, id);
    for (const res of open) res.destroy();
    expect(ended).toMatchObject({ outcome: 'SUCCEEDED', attempts: 1, httpStatus: 200 });
    expect(ex.deliveries.length - before).toBe(1);
    ex.status(200);
  });
});

describe('runHistory pages', () => {
  let ex: Executor;
  let h: Harness;
  beforeAll(async () => {
    // A lease (timeout + 5 s) longer than a minute: the next minutely time comes while a run holds the task.
    ({ ex, h } = await setup({ retryBaseMs: 5, timeoutMs: 120_000, maxAttempts: 1 }));
  });
  afterEach(() => clean(h));
  afterAll(async () => {
    await h.close();
    await ex.close();
  });

  it('pages newest first with cursors, filters by outcome, and refuses a forged cursor', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const made: string[] = [];
    for (const code of [200, 500, 200, 500, 200]) {
      ex.status(code);
      const r = narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'RunTaskSuccess');
      await h.dispatcher!.idle();
      made.push(r.run.id);
      h.clock.advance(1);
    }
    // Every minute from now on: a planned time while nothing runs, then the
    // next one while that run still holds the task (OVERLAP).
    const minutely = narrow(
      (await h.gql(UpdateTaskDocument, { id, input: { frequency: 'EVERY_MINUTE' } }, a.key)).updateTask,
      'UpdateTaskSuccess',
    );
    expect(minutely.task.crontab).toBe('* * * * *');
    await makeDue(h, id);
    const gate = holding(ex);
    expect((await h.dispatcher!.tick()).started).toBe(1);
    await until('the delivery', () => gate.held.length === 1);
    const scheduled = (await task(h, id)).lastRunId!;
    await makeDue(h, id);
    expect((await h.dispatcher!.tick()).handled).toBe(1);
    gate.release();
    await h.dispatcher!.idle();
    ex.status(200);

    const page = async (vars: { first?: number; after?: string | null; filter?: TaskRunFilter }) =>
      narrow((await h.gql(TaskRunsDocument, { id, ...vars }, a.key)).task, 'Task').runHistory;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const p = await page({ first: 3, after });
      seen.push(...p.edges.map((e) => e.node.id));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor!;
    }
    const all = (await page({ first: 100 })).edges.map((e) => e.node);
    expect(seen).toEqual(all.map((r) => r.id));
    expect(all).toHaveLength(7);
    expect(all[0]).toMatchObject({ outcome: 'SKIPPED', skipReason: 'OVERLAP', attempts: 0, startedAt: null });
    expect(all[1]).toMatchObject({ id: scheduled, trigger: 'SCHEDULE', outcome: 'SUCCEEDED' });
    expect(all.slice(2).map((r) => r.id)).toEqual([...made].reverse());
    const times = all.map((r) => new Date(r.scheduledFor).getTime());
    expect([...times].sort((x, y) => y - x)).toEqual(times);

    const failed = await page({ first: 100, filter: { outcome: 'FAILED' } });
    expect(failed.edges.map((e) => e.node.id)).toEqual([made[3], made[1]]);
    expect(failed.edges.every((e) => e.node.httpStatus === 500)).toBe(true);

    const t = narrow((await h.gql(TaskRunsDocument, { id, first: 1 }, a.key)).task, 'Task');
    // runs counts started runs, SKIPPED ones not; lastRun is the last started.
    expect(t).toMatchObject({ runs: 6, consecutiveFailures: 0 });
    expect(t.lastRun?.id).toBe(scheduled);

    const forged = Buffer.from(JSON.stringify(['x', 1])).toString('base64url');
    for (const vars of [{ after: forged }, { after: 'not a cursor' }, { first: 101 }, { first: -1 }]) {
      const res = await h.request(TaskRunsDocument, { id, ...vars }, { key: a.key });
      expect(res.status).toBe(200);
      expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify(vars)).toBe('BAD_USER_INPUT');
    }
  });
});

describe('several dispatchers on one database', () => {
  let ex: Executor;
  let h: Harness;
  const logger = createLogger('error', new Writable({ write: (_c, _e, done) => done() }));
  beforeAll(async () => {
    ({ ex, h } = await setup({ retryBaseMs: 5, timeoutMs: 5_000, concurrency: 7 }, false));
  });
  afterAll(async () => {
    await h.close();
    await ex.close();
  });

  it('claims each due time once when their passes overlap', async () => {
    const deps = { db: h.db, clock: h.clock, runs: h.deps.runs, events: h.deps.events };
    const dispatchers = [1, 2, 3, 4].map(() => new Dispatcher({ deps, logger }));
    // Several accounts: a pass that meets an account another pass holds defers its tasks.
    const ids: string[] = [];
    for (let n = 0; n < 4; n++) ids.push(...(await h.tasks((await h.account()).id, Array(15).fill({}))));
    const due = (await task(h, ids[0]!)).nextRunAt!;
    h.clock.ms = due.getTime() + 100;

    let handled = 0;
    for (let round = 0; handled < ids.length; round++) {
      if (round > 200) throw new Error(`only ${handled} of ${ids.length} handled`);
      const passes = await Promise.all(dispatchers.map((d) => d.tick()));
      handled += passes.reduce((sum, p) => sum + p.handled, 0);
      if (passes.every((p) => p.handled === 0)) await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(dispatchers.map((d) => d.idle()));
    expect(handled).toBe(ids.length);

    const got = ex.deliveries.filter((d) => ids.includes(d.taskId));
    expect(got).toHaveLength(ids.length);
    expect(new Set(got.map((d) => d.taskId)).size).toBe(ids.length);
    expect(new Set(got.map((d) => d.runId)).size).toBe(ids.length);
    expect(got.every((d) => d.signatureValid && d.attempt === 1 && d.scheduledFor === due.toISOString())).toBe(true);
    const runs = await h.db.read.taskRun.findMany({ where: { taskId: { in: ids } } });
    expect(runs).toHaveLength(ids.length);
    expect(runs.every((r) => r.outcome === 'SUCCEEDED' && r.scheduledFor.getTime() === due.getTime())).toBe(true);
    const tasks = await h.db.read.task.findMany({ where: { id: { in: ids } } });
    expect(tasks.every((t) => t.runs === 1 && !t.inProgress && t.nextRunAt!.getTime() > h.clock.ms)).toBe(true);
    // Quota: one unit per run, no more.
    const used = await Promise.all([...new Set(tasks.map((t) => t.accountId))].map((id) => h.quotaUsed(id)));
    expect(used).toEqual([15, 15, 15, 15]);
    await Promise.all(dispatchers.map((d) => d.stop()));
  });
});
