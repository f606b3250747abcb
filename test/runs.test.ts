// Scheduled runs against a real executor (node:http, verifying signatures),
// with time driven by the harness clock and the dispatcher driven by tick():
// outcomes and retries, signatures, each SKIPPED reason, catch-up after
// downtime, takeover of runs whose dispatcher died, retention, and the
// history as a client reads it over GraphQL.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunSettings } from '../src/config.js';
import { Dispatcher } from '../src/dispatcher/dispatcher.js';
import {
  CreateTaskDocument,
  PauseScheduleDocument,
  RunTaskDocument,
  TaskRunsDocument,
  type TaskRunsQueryVariables,
} from '../src/generated/client/graphql.js';
import { createLogger } from '../src/logger.js';
import { claimDueRuns } from '../src/services/runs/claim.js';
import { leaseMs } from '../src/services/runs/policy.js';
import { PRUNE_BATCH, pruneOldRuns } from '../src/services/runs/prune.js';
import { type Executor, startExecutor, verify } from './helpers/executor.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';

const SETTINGS: Partial<RunSettings> = { timeoutMs: 400, retryBaseMs: 10, maxAttempts: 3 };
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const OK = (_d: unknown, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
};

let h: Harness;
let ex: Executor;
const silent = createLogger('silent');

beforeAll(async () => {
  ex = await startExecutor();
  h = await createHarness({
    runs: { ...SETTINGS, executorUrl: ex.url, executorSecret: ex.secret },
    dispatcher: true,
    // Tests read a lot at one clock time: the rate limit is not under test here.
    limits: { accountMax: 100_000, scheduleMax: 100_000 },
  });
});
afterAll(async () => {
  await h?.close();
  await ex?.close();
});
// Every tick claims every due task in the database: leave none of this test's
// tasks to fire in the next one.
afterEach(async () => {
  await h.dispatcher!.idle();
  // Nothing failed unexpectedly on the way (the harness logs errors only).
  expect(h.logLines.splice(0)).toEqual([]);
  ex.answer(OK);
  await h.db.transaction((tx) =>
    tx.task.updateMany({ where: { status: 'ACTIVE' }, data: { status: 'PAUSED', nextRunAt: null } }),
  );
});

const dispatcher = () => h.dispatcher!;
const deliveriesOf = (ex: Executor, taskId: string) => ex.deliveries.filter((d) => d.taskId === taskId);
const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.NaN);

async function nextRunAt(id: string): Promise<Date> {
  const task = await h.db.read.task.findUniqueOrThrow({ where: { id } });
  expect(task.nextRunAt).not.toBeNull();
  return task.nextRunAt as Date;
}

/** The task with its last run and a page of history, as a client reads it. */
async function read(id: string, key: string, vars: Omit<TaskRunsQueryVariables, 'id'> = {}) {
  return narrow((await h.gql(TaskRunsDocument, { id, ...vars }, key)).task, 'Task');
}

type RunPage = Awaited<ReturnType<typeof read>>['runHistory'];

describe('a due run', () => {
  it('is delivered signed, with its path, query and headers, and recorded SUCCEEDED', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const planned = await nextRunAt(id);
    const before = await read(id, a.key);
    expect(before).toMatchObject({ runs: 0, lastRunAt: null, lastRun: null, inProgress: false });
    const quota = await h.quotaUsed(a.id);

    h.clock.ms = planned.getTime() - 1;
    expect(await dispatcher().tick()).toMatchObject({ handled: 0, started: 0 });
    h.clock.ms = planned.getTime() + 1500; // the dispatcher reaches it 1.5 s late
    const pass = await dispatcher().tick();
    expect(pass).toMatchObject({ handled: 1, started: 1, resumed: 0, timedOut: 0 });
    await dispatcher().idle();

    const [d, ...more] = deliveriesOf(ex, id);
    expect(more).toHaveLength(0);
    expect(d).toMatchObject({
      method: 'GET',
      url: '/exec/screenshot?url=https%3A%2F%2Fexample.com',
      taskId: id,
      accountId: a.id,
      attempt: 1,
      signatureValid: true,
    });
    expect(d!.scheduledFor).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(Date.parse(d!.scheduledFor)).toBe(planned.getTime());
    expect(d!.headers['x-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    const t = await read(id, a.key);
    const run = t.lastRun!;
    expect(run).toMatchObject({
      id: d!.runId,
      taskId: id,
      trigger: 'SCHEDULE',
      outcome: 'SUCCEEDED',
      skipReason: null,
      attempts: 1,
      httpStatus: 200,
      error: null,
    });
    expect(ms(run.scheduledFor)).toBe(planned.getTime());
    expect(ms(run.startedAt) - ms(run.scheduledFor)).toBe(1500);
    expect(run.durationMs).toBeGreaterThanOrEqual(0);
    expect(ms(run.finishedAt)).toBeGreaterThanOrEqual(ms(run.startedAt));
    expect(t.runHistory.edges.map((e) => e.node.id)).toEqual([run.id]);
    expect(t).toMatchObject({ runs: 1, inProgress: false, lastRunAt: run.startedAt, consecutiveFailures: 0 });
    expect(ms(t.nextRunAt)).toBe(planned.getTime() + DAY);
    // Runs move nextRunAt on without a new version.
    expect(t.version).toBe(before.version);
    expect(await h.quotaUsed(a.id)).toBe(quota + 1);

    // Nothing else is due: a second pass does nothing.
    expect(await dispatcher().tick()).toMatchObject({ handled: 0, started: 0 });
    expect(deliveriesOf(ex, id)).toHaveLength(1);
  });

  it('answered non-2xx is retried with the same run id, then FAILED with a short, printable error', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const planned = await nextRunAt(id);
    const quota = await h.quotaUsed(a.id);
    // A huge body full of control characters and escapes: none of it may reach the record whole.
    ex.status(503, `overloaded\u0000\u001b[31m\r\n\t${'x'.repeat(100_000)}\u0007`);

    h.clock.ms = planned.getTime() + 10;
    expect((await dispatcher().tick()).started).toBe(1);
    await dispatcher().idle();

    const ds = deliveriesOf(ex, id);
    expect(ds.map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect(new Set(ds.map((d) => d.runId)).size).toBe(1);
    expect(ds.every((d) => d.signatureValid && Date.parse(d.scheduledFor) === planned.getTime())).toBe(true);

    const t = await read(id, a.key);
    expect(t.lastRun).toMatchObject({ id: ds[0]!.runId, outcome: 'FAILED', attempts: 3, httpStatus: 503 });
    const error = t.lastRun!.error!;
    expect(error).toMatch(/^HTTP 503/);
    expect(error).toContain('overloaded');
    expect(error.length).toBeLessThanOrEqual(200);
    expect(error).not.toMatch(/\p{Cc}/u);
    expect(t.lastRun!.durationMs).toBeGreaterThanOrEqual(0);
    expect(t).toMatchObject({ runs: 1, inProgress: false, consecutiveFailures: 1, status: 'ACTIVE' });
    expect(ms(t.nextRunAt)).toBe(planned.getTime() + DAY);
    // One run, one unit, however many attempts.
    expect(await h.quotaUsed(a.id)).toBe(quota + 1);
  });

  it('that succeeds on its second attempt is SUCCEEDED with 2 attempts', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    ex.answer((d, res) => {
      if (d.attempt === 1) res.writeHead(500).end('try again');
      else OK(d, res);
    });
    h.clock.ms = (await nextRunAt(id)).getTime();
    await dispatcher().tick();
    await dispatcher().idle();

    const ds = deliveriesOf(ex, id);
    expect(ds.map((d) => [d.attempt, d.runId])).toEqual([
      [1, ds[0]!.runId],
      [2, ds[0]!.runId],
    ]);
    const t = await read(id, a.key);
    expect(t.lastRun).toMatchObject({ outcome: 'SUCCEEDED', attempts: 2, httpStatus: 200, error: null });
    expect(t.consecutiveFailures).toBe(0);
  });

  it('that gets no answer within the timeout is TIMED_OUT after its last attempt', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const held: ServerResponse[] = [];
    ex.answer((_d, res) => {
      held.push(res); // never answered: the dispatcher gives up after timeoutMs
    });
    h.clock.ms = (await nextRunAt(id)).getTime();
    const started = performance.now();
    await dispatcher().tick();
    await dispatcher().idle();
    const elapsed = performance.now() - started;
    for (const res of held) res.destroy();

    expect(deliveriesOf(ex, id).map((d) => d.attempt)).toEqual([1, 2, 3]);
    // Each attempt waited for the timeout, no longer than a generous margin.
    expect(elapsed).toBeGreaterThanOrEqual(3 * 400 - 50);
    expect(elapsed).toBeLessThan(10_000);
    const t = await read(id, a.key);
    expect(t.lastRun).toMatchObject({ outcome: 'TIMED_OUT', attempts: 3, httpStatus: null });
    expect(t.lastRun!.error).toBeTruthy();
    expect(t.lastRun!.error!.length).toBeLessThanOrEqual(200);
    expect(t).toMatchObject({ inProgress: false, consecutiveFailures: 1 });
  });

  it('is TIMED_OUT only when its last attempt timed out: an earlier timeout then a 500 is FAILED', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const held: ServerResponse[] = [];
    ex.answer((d, res) => {
      if (d.attempt < 3) held.push(res);
      else res.writeHead(500).end('no');
    });
    h.clock.ms = (await nextRunAt(id)).getTime();
    await dispatcher().tick();
    await dispatcher().idle();
    for (const res of held) res.destroy();
    const t = await read(id, a.key);
    expect(t.lastRun).toMatchObject({ outcome: 'FAILED', attempts: 3, httpStatus: 500 });
  });
});

describe('a due run the executor cannot take', () => {
  it('is FAILED without an HTTP status when the connection drops or is refused', async () => {
    const a = await h.account();
    const dropped = await h.task(a.id);
    ex.answer((_d, res) => {
      res.socket?.destroy();
    });
    h.clock.ms = (await nextRunAt(dropped)).getTime();
    await dispatcher().tick();
    await dispatcher().idle();
    expect(deliveriesOf(ex, dropped).map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect((await read(dropped, a.key)).lastRun).toMatchObject({ outcome: 'FAILED', attempts: 3, httpStatus: null });
    expect((await read(dropped, a.key)).lastRun!.error).toMatch(/^Request failed/);

    // Nobody listening at the executor's address.
    const gone = await startExecutor();
    await gone.close();
    const nobody = new Dispatcher({
      deps: { db: h.db, clock: h.clock, runs: { ...h.deps.runs, executorUrl: gone.url }, events: h.deps.events },
      logger: silent,
    });
    const refused = await h.task(a.id);
    h.clock.ms = (await nextRunAt(refused)).getTime();
    await nobody.tick();
    await nobody.idle();
    await nobody.stop();
    const t = await read(refused, a.key);
    expect(t.lastRun).toMatchObject({ outcome: 'FAILED', attempts: 3, httpStatus: null });
    expect(t.lastRun!.error).toContain('ECONNREFUSED');
    expect(t).toMatchObject({ inProgress: false, consecutiveFailures: 1 });
  });

  it('does not follow a redirect: a 3xx is a failed attempt', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    ex.answer((d, res) => {
      if (d.url.startsWith('/exec/')) res.writeHead(302, { location: '/elsewhere' }).end();
      else OK(d, res);
    });
    h.clock.ms = (await nextRunAt(id)).getTime();
    await dispatcher().tick();
    await dispatcher().idle();
    expect(ex.deliveries.filter((d) => d.url === '/elsewhere')).toHaveLength(0);
    expect((await read(id, a.key)).lastRun).toMatchObject({ outcome: 'FAILED', httpStatus: 302, attempts: 3 });
  });
});

describe('the signature', () => {
  it('lets the executor refuse a dispatcher that signs with another secret', async () => {
    // An executor that knows a different secret than the dispatcher's, and refuses what it cannot verify.
    const other = await startExecutor('another-secret-that-does-not-match');
    other.answer((d, res) => {
      res.writeHead(d.signatureValid ? 200 : 401).end(d.signatureValid ? 'ok' : 'bad signature');
    });
    const wrong = new Dispatcher({
      deps: { db: h.db, clock: h.clock, runs: { ...h.deps.runs, executorUrl: other.url }, events: h.deps.events },
      logger: silent,
    });
    try {
      const a = await h.account();
      const id = await h.task(a.id);
      h.clock.ms = (await nextRunAt(id)).getTime();
      expect((await wrong.tick()).started).toBe(1);
      await wrong.idle();

      const ds = deliveriesOf(other, id);
      expect(ds.length).toBe(3);
      expect(ds.every((d) => !d.signatureValid)).toBe(true);
      const t = await read(id, a.key);
      expect(t.lastRun).toMatchObject({ outcome: 'FAILED', httpStatus: 401, error: 'HTTP 401: bad signature' });

      // The same delivery checks out with the dispatcher's secret, and not once its path is changed.
      const as = (d: (typeof ds)[number], url = d.url) =>
        ({ method: d.method, url, headers: d.headers }) as IncomingMessage;
      expect(verify(as(ds[0]!), h.deps.runs.executorSecret!)).toBe(true);
      expect(verify(as(ds[0]!, ds[0]!.url.replace('example.com', 'example.org')), h.deps.runs.executorSecret!)).toBe(
        false,
      );
    } finally {
      await wrong.stop();
      await other.close();
    }
  });
});

describe('a due run that may not run', () => {
  it('is recorded SKIPPED with the reason, not delivered, consumes no quota, and the schedule moves on', async () => {
    const unpaid = await h.account({ billing: 'UNPAID' });
    const growth = await h.account({ plan: 'GROWTH' });
    const spent = await h.account({ quotaLimit: 5, quotaUsed: 5 });
    const cases = [
      { account: unpaid, reason: 'PAYMENT_REQUIRED' },
      // Seeded directly: the API refuses to create tasks on this plan.
      { account: growth, reason: 'PLAN_UPGRADE_REQUIRED' },
      { account: spent, reason: 'QUOTA_EXCEEDED' },
    ] as const;
    const ids = await Promise.all(cases.map((c) => h.task(c.account.id)));
    const planned = await nextRunAt(ids[0]!);
    for (const id of ids) expect((await nextRunAt(id)).getTime()).toBe(planned.getTime());

    h.clock.ms = planned.getTime() + 2000;
    expect(await dispatcher().tick()).toMatchObject({ handled: 3, started: 0 });
    await dispatcher().idle();
    for (const id of ids) expect(deliveriesOf(ex, id)).toHaveLength(0);
    expect(await h.quotaUsed(spent.id)).toBe(5);
    expect(await h.quotaUsed(unpaid.id)).toBe(0);
    expect(await h.quotaUsed(growth.id)).toBe(0);

    // The owners read it once they may read again (paid, upgraded).
    await h.db.transaction((tx) =>
      tx.account.updateMany({ where: { id: { in: [unpaid.id, growth.id] } }, data: { billing: 'OK', plan: 'SCALE' } }),
    );
    for (const [i, c] of cases.entries()) {
      const t = await read(ids[i]!, c.account.key);
      const [skipped, ...more] = t.runHistory.edges.map((e) => e.node);
      expect(more).toHaveLength(0);
      expect(skipped).toMatchObject({
        trigger: 'SCHEDULE',
        outcome: 'SKIPPED',
        skipReason: c.reason,
        startedAt: null,
        durationMs: null,
        attempts: 0,
        httpStatus: null,
      });
      expect(ms(skipped!.scheduledFor)).toBe(planned.getTime());
      expect(ms(skipped!.finishedAt)).toBe(h.clock.ms);
      expect(skipped!.error).toBeTruthy();
      // Skipped times are not runs: not counted, not the last run, no failure.
      expect(t).toMatchObject({ runs: 0, lastRunAt: null, lastRun: null, inProgress: false, consecutiveFailures: 0 });
      expect(ms(t.nextRunAt)).toBe(planned.getTime() + DAY);
    }
  });
});

describe('quota', () => {
  it('is consumed by each run until used up (QUOTA_EXCEEDED), and runs go on in the next period', async () => {
    const a = await h.account({ quotaLimit: 1 });
    const id = await h.task(a.id);
    const first = (await nextRunAt(id)).getTime();
    // The quota period ends between day 1 and day 2.
    await h.db.transaction((tx) =>
      tx.account.update({ where: { id: a.id }, data: { quotaResetAt: new Date(first + DAY + 12 * 60 * MINUTE) } }),
    );
    for (const day of [0, 1, 2]) {
      h.clock.ms = first + day * DAY;
      await dispatcher().tick();
      await dispatcher().idle();
    }
    expect(deliveriesOf(ex, id).map((d) => Date.parse(d.scheduledFor))).toEqual([first, first + 2 * DAY]);
    const t = await read(id, a.key);
    expect(t.runHistory.edges.map((e) => [e.node.outcome, e.node.skipReason])).toEqual([
      ['SUCCEEDED', null],
      ['SKIPPED', 'QUOTA_EXCEEDED'],
      ['SUCCEEDED', null],
    ]);
    expect(t.runs).toBe(2);
    expect(await h.quotaUsed(a.id)).toBe(1);
  });
});

describe('after downtime', () => {
  it('runs only the latest planned time within the catch-up window and records the older ones as one MISSED', async () => {
    const a = await h.account();
    const created = narrow(
      (
        await h.gql(
          CreateTaskDocument,
          {
            input: {
              name: 'every minute',
              api: 'PDF',
              query: 'url=https%3A%2F%2Fexample.com&full_page=true',
              frequency: 'EVERY_MINUTE',
            },
          },
          a.key,
        )
      ).createTask,
      'CreateTaskSuccess',
    ).task;
    const id = created.id;
    const first = ms(created.nextRunAt);
    expect(first % MINUTE).toBe(0);
    const quota = await h.quotaUsed(a.id);

    // No dispatcher for two hours and a bit.
    h.clock.ms = first + 2 * 60 * MINUTE + 25_000;
    const latest = Math.floor(h.clock.ms / MINUTE) * MINUTE;
    expect(await dispatcher().tick()).toMatchObject({ handled: 1, started: 1 });
    await dispatcher().idle();
    // No burst: the next pass finds nothing due.
    expect(await dispatcher().tick()).toMatchObject({ handled: 0, started: 0 });

    const ds = deliveriesOf(ex, id);
    expect(ds).toHaveLength(1);
    expect(ds[0]!.url).toBe('/exec/pdf?url=https%3A%2F%2Fexample.com&full_page=true');
    expect(Date.parse(ds[0]!.scheduledFor)).toBe(latest);

    const t = await read(id, a.key);
    const [ran, missed, ...more] = t.runHistory.edges.map((e) => e.node);
    expect(more).toHaveLength(0);
    expect(ran).toMatchObject({ id: ds[0]!.runId, outcome: 'SUCCEEDED', trigger: 'SCHEDULE' });
    expect(ms(ran!.scheduledFor)).toBe(latest);
    expect(ms(ran!.startedAt) - latest).toBe(25_000);
    expect(missed).toMatchObject({ outcome: 'SKIPPED', skipReason: 'MISSED', attempts: 0, startedAt: null });
    expect(ms(missed!.scheduledFor)).toBe(first);
    expect(t).toMatchObject({ runs: 1, inProgress: false });
    expect(ms(t.nextRunAt)).toBe(latest + MINUTE);
    expect(await h.quotaUsed(a.id)).toBe(quota + 1);
  });

  it('runs nothing when no planned time falls within the window, records MISSED and continues the schedule', async () => {
    const a = await h.account();
    const id = await h.task(a.id); // daily at 00:00 UTC
    const first = (await nextRunAt(id)).getTime();

    // Down three days; back at 00:10, ten minutes after the last planned time (window 300 s).
    h.clock.ms = first + 3 * DAY + 10 * MINUTE;
    expect(await dispatcher().tick()).toMatchObject({ handled: 1, started: 0 });
    await dispatcher().idle();
    expect(deliveriesOf(ex, id)).toHaveLength(0);

    let t = await read(id, a.key);
    expect(t.runHistory.edges.map((e) => [e.node.outcome, e.node.skipReason, ms(e.node.scheduledFor)])).toEqual([
      ['SKIPPED', 'MISSED', first],
    ]);
    expect(t.runHistory.edges[0]!.node.error).toBeTruthy();
    expect(t).toMatchObject({ runs: 0, lastRun: null, status: 'ACTIVE', inProgress: false });
    expect(ms(t.nextRunAt)).toBe(first + 4 * DAY);

    // The schedule goes on at its next time.
    h.clock.ms = first + 4 * DAY;
    expect(await dispatcher().tick()).toMatchObject({ handled: 1, started: 1 });
    await dispatcher().idle();
    expect(deliveriesOf(ex, id).map((d) => Date.parse(d.scheduledFor))).toEqual([first + 4 * DAY]);
    t = await read(id, a.key);
    expect(t.runHistory.edges.map((e) => e.node.outcome)).toEqual(['SUCCEEDED', 'SKIPPED']);
    expect(ms(t.nextRunAt)).toBe(first + 5 * DAY);
  });
});

describe('the catch-up window', () => {
  const window = () => h.deps.runs.catchUpMs;

  it('includes a time exactly RUN_CATCH_UP_SECONDS old and excludes one a millisecond older', async () => {
    const a = await h.account();
    const onEdge = await h.task(a.id);
    const planned = (await nextRunAt(onEdge)).getTime();
    h.clock.ms = planned + window();
    expect(await dispatcher().tick()).toMatchObject({ handled: 1, started: 1 });
    await dispatcher().idle();
    expect(deliveriesOf(ex, onEdge)).toHaveLength(1);

    const past = await h.task(a.id);
    const next = (await nextRunAt(past)).getTime();
    h.clock.ms = next + window() + 1;
    // onEdge's next time is the same, as late.
    expect(await dispatcher().tick()).toMatchObject({ handled: 2, started: 0 });
    await dispatcher().idle();
    expect(deliveriesOf(ex, past)).toHaveLength(0);
    expect(deliveriesOf(ex, onEdge)).toHaveLength(1);
    expect((await read(past, a.key)).runHistory.edges.map((e) => e.node.skipReason)).toEqual(['MISSED']);
  });

  // BUG (src/services/runs/due-time.ts): with RUN_CATCH_UP_SECONDS=0, which the
  // config accepts, a time the dispatcher reaches even a millisecond late is
  // recorded MISSED ("no dispatcher was running"): a running scheduler never runs anything.
  it('does not treat a time reached a moment late as missed when RUN_CATCH_UP_SECONDS is 0', async () => {
    const strict = new Dispatcher({
      deps: { db: h.db, clock: h.clock, runs: { ...h.deps.runs, catchUpMs: 0 }, events: h.deps.events },
      logger: silent,
    });
    try {
      const a = await h.account();
      const id = await h.task(a.id);
      h.clock.ms = (await nextRunAt(id)).getTime() + 20; // one dispatcher pass late
      await strict.tick();
      await strict.idle();
      expect((await read(id, a.key)).runHistory.edges.map((e) => [e.node.outcome, e.node.skipReason])).toEqual([
        ['SUCCEEDED', null],
      ]);
      expect(deliveriesOf(ex, id)).toHaveLength(1);
    } finally {
      await strict.stop();
    }
  });
});

describe('a run whose dispatcher went away', () => {
  const settings = () => h.deps.runs;
  /** Claims the task's due time as a dispatcher does, then "dies": nobody executes the run. */
  async function claimedByTheDead(id: string) {
    h.clock.ms = (await nextRunAt(id)).getTime();
    const claimed = await claimDueRuns({ db: h.db, clock: h.clock, runs: settings(), events: h.deps.events }, 10);
    expect(claimed.started.map((s) => s.run.taskId)).toEqual([id]);
    return claimed.started[0]!.run;
  }

  it('is taken over by another dispatcher after its lease: the next attempt, same run id', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const quota = await h.quotaUsed(a.id);
    const run = await claimedByTheDead(id);
    expect(run.attempts).toBe(1);
    const other = new Dispatcher({
      deps: { db: h.db, clock: h.clock, runs: settings(), events: h.deps.events },
      logger: silent,
    });
    try {
      // Before the lease ends nobody touches it.
      h.clock.ms = run.leaseUntil!.getTime() - 1;
      expect(await other.tick()).toMatchObject({ resumed: 0, timedOut: 0 });
      expect((await read(id, a.key)).inProgress).toBe(true);

      h.clock.ms = run.leaseUntil!.getTime();
      expect(await other.tick()).toMatchObject({ resumed: 1, timedOut: 0, started: 0 });
      await other.idle();
    } finally {
      await other.stop();
    }
    const ds = deliveriesOf(ex, id);
    expect(ds.map((d) => [d.runId, d.attempt, d.signatureValid])).toEqual([[run.id, 2, true]]);
    expect(Date.parse(ds[0]!.scheduledFor)).toBe(run.scheduledFor.getTime());
    const t = await read(id, a.key);
    expect(t.runHistory.edges.map((e) => e.node.id)).toEqual([run.id]);
    expect(t.lastRun).toMatchObject({ id: run.id, outcome: 'SUCCEEDED', attempts: 2, httpStatus: 200 });
    expect(t).toMatchObject({ runs: 1, inProgress: false });
    // The takeover is the same run: no second unit of quota.
    expect(await h.quotaUsed(a.id)).toBe(quota + 1);
  });

  it('ends TIMED_OUT when its attempts were used up, and its task is released', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const run = await claimedByTheDead(id);
    // The dead dispatcher had started the last attempt.
    const max = settings().maxAttempts;
    expect(await h.db.write((w) => w.leaseRun(run.id, run.leaseUntil!, run.leaseUntil!, max))).toBe(true);

    h.clock.ms = run.leaseUntil!.getTime() + 1;
    expect(await dispatcher().tick()).toMatchObject({ resumed: 0, timedOut: 1 });
    await dispatcher().idle();
    expect(deliveriesOf(ex, id)).toHaveLength(0);
    const t = await read(id, a.key);
    expect(t.lastRun).toMatchObject({ id: run.id, outcome: 'TIMED_OUT', attempts: max, httpStatus: null });
    expect(t.lastRun!.error).toBeTruthy();
    expect(t).toMatchObject({ inProgress: false, consecutiveFailures: 1, status: 'ACTIVE' });
    // Not stuck: it runs again at its next time.
    h.clock.ms = ms(t.nextRunAt);
    expect((await dispatcher().tick()).started).toBe(1);
    await dispatcher().idle();
    expect(deliveriesOf(ex, id)).toHaveLength(1);
    expect((await read(id, a.key)).consecutiveFailures).toBe(0);
  });

  it('cannot be recorded by the presumed-dead dispatcher once another took it over', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    // Long enough a timeout that the first dispatcher's attempt is still waiting when it is taken over.
    const runs = { ...settings(), timeoutMs: 10_000 };
    const [first, second] = [1, 2].map(
      () => new Dispatcher({ deps: { db: h.db, clock: h.clock, runs, events: h.deps.events }, logger: silent }),
    );
    const stalled: ServerResponse[] = [];
    ex.answer((d, res) => {
      if (d.attempt === 1) stalled.push(res);
      else res.writeHead(500).end('still broken');
    });
    try {
      h.clock.ms = (await nextRunAt(id)).getTime();
      expect((await first!.tick()).started).toBe(1);
      while (stalled.length === 0) await new Promise((r) => setTimeout(r, 5));
      // The first dispatcher stalls past its lease (a long pause, a partition): the second takes over.
      h.clock.ms += leaseMs(runs);
      expect(await second!.tick()).toMatchObject({ resumed: 1 });
      await second!.idle();
      const taken = await read(id, a.key);
      expect(taken.lastRun).toMatchObject({ outcome: 'FAILED', attempts: 3, httpStatus: 500 });

      // The first one's attempt now succeeds: too late, the run is not its to record.
      for (const res of stalled) OK(null, res);
      await first!.idle();
      const t = await read(id, a.key);
      expect(t.lastRun).toEqual(taken.lastRun);
      expect(t.runHistory.edges).toHaveLength(1);
      expect(t).toMatchObject({ runs: 1, inProgress: false, consecutiveFailures: 1 });
      const ds = deliveriesOf(ex, id);
      expect(ds.map((d) => d.attempt)).toEqual([1, 2, 3]);
      expect(new Set(ds.map((d) => d.runId))).toEqual(new Set([t.lastRun!.id]));
    } finally {
      for (const res of stalled) res.destroy();
      await first!.stop();
      await second!.stop();
    }
  });
});

describe('retention', () => {
  it('prunes runs that ended before the window, keeping newer ones and every task’s last run', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const keepLast = await h.task(a.id);
    const first = (await nextRunAt(id)).getTime();

    // Day 0 and day 1: two runs of each task.
    for (const day of [0, 1]) {
      h.clock.ms = first + day * DAY;
      expect((await dispatcher().tick()).started).toBe(2);
      await dispatcher().idle();
    }
    narrow((await h.gql(PauseScheduleDocument, { id: keepLast }, a.key)).pauseSchedule, 'PauseScheduleSuccess');
    const oldLast = (await read(keepLast, a.key)).lastRun!;

    // Day 40: the first task runs again (its missed days leave one MISSED record).
    h.clock.ms = first + 40 * DAY;
    expect((await dispatcher().tick()).started).toBe(1);
    await dispatcher().idle();
    expect((await read(id, a.key)).runHistory.edges).toHaveLength(4);

    const pruned = await pruneOldRuns(h.deps);
    expect(pruned).toBeGreaterThanOrEqual(3); // this test's; earlier tests' old runs go too
    expect(await pruneOldRuns(h.deps)).toBe(0);

    const t = await read(id, a.key);
    expect(t.runHistory.edges.map((e) => [e.node.outcome, e.node.skipReason])).toEqual([
      ['SUCCEEDED', null],
      ['SKIPPED', 'MISSED'],
    ]);
    // The count of runs keeps the pruned ones.
    expect(t.runs).toBe(3);
    const kept = await read(keepLast, a.key);
    expect(kept.lastRun).toEqual(oldLast);
    expect(kept.runHistory.edges.map((e) => e.node.id)).toEqual([oldLast.id]);
    expect(kept.runs).toBe(2);
  });

  it('keeps runs that ended within the window', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    h.clock.ms = (await nextRunAt(id)).getTime();
    for (const _ of [1, 2]) {
      narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'RunTaskSuccess');
      await dispatcher().idle();
      h.clock.advance(60);
    }
    // The window starts exactly when the older run ended: it stays.
    h.clock.ms += h.deps.runs.retentionMs - 2 * 60_000;
    await pruneOldRuns(h.deps);
    expect((await read(id, a.key)).runHistory.edges).toHaveLength(2);
    // One millisecond later it is out of it (the newer one is the last run and stays).
    h.clock.ms += 1;
    await pruneOldRuns(h.deps);
    expect((await read(id, a.key)).runHistory.edges).toHaveLength(1);
  });
});

describe('retention in batches', () => {
  it('prunes more old runs than one batch holds', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const old = new Date(h.clock.ms - h.deps.runs.retentionMs - DAY);
    const count = PRUNE_BATCH * 2 + 7;
    await h.db.transaction((tx) =>
      tx.taskRun.createMany({
        data: Array.from({ length: count }, (_, i) => ({
          id: `old-${i}`,
          taskId: id,
          accountId: a.id,
          trigger: 'SCHEDULE' as const,
          api: 'PDF' as const,
          query: 'url=x',
          scheduledFor: new Date(old.getTime() - i * MINUTE),
          finishedAt: old,
          outcome: 'SKIPPED' as const,
          skipReason: 'MISSED' as const,
        })),
      }),
    );
    // A run still RUNNING is never pruned, however old.
    await h.db.transaction((tx) =>
      tx.taskRun.create({
        data: {
          id: 'old-running',
          taskId: id,
          accountId: a.id,
          trigger: 'MANUAL',
          api: 'PDF',
          query: 'url=x',
          scheduledFor: old,
          startedAt: old,
          outcome: 'RUNNING',
          attempts: 1,
          leaseUntil: new Date(h.clock.ms + DAY),
        },
      }),
    );
    expect(await pruneOldRuns(h.deps)).toBe(count);
    expect(await h.db.read.taskRun.findMany({ where: { taskId: id }, select: { id: true } })).toEqual([
      { id: 'old-running' },
    ]);
    await h.db.transaction((tx) => tx.taskRun.delete({ where: { id: 'old-running' } }));
  });
});

describe('runHistory', () => {
  it('pages newest first with cursors, filters by outcome, and refuses a bad cursor', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    // Five MANUAL runs a second apart: SUCCEEDED, FAILED, SUCCEEDED, FAILED, SUCCEEDED.
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      if (i % 2 === 1) ex.status(500, 'no');
      else ex.answer(OK);
      const run = narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'RunTaskSuccess').run;
      ids.push(run.id);
      await dispatcher().idle();
      h.clock.advance(1);
    }
    const newestFirst = [...ids].reverse();

    const seen: string[] = [];
    let after: string | null = null;
    const pages: boolean[] = [];
    for (;;) {
      const page: RunPage = (await read(id, a.key, { first: 2, after })).runHistory;
      seen.push(...page.edges.map((e) => e.node.id));
      pages.push(page.pageInfo.hasNextPage);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(newestFirst);
    expect(pages).toEqual([true, true, false]);

    const failed = (await read(id, a.key, { filter: { outcome: 'FAILED' } })).runHistory.edges.map((e) => e.node);
    expect(failed.map((r) => r.id)).toEqual([ids[3], ids[1]]);
    expect(failed.every((r) => r.outcome === 'FAILED' && r.trigger === 'MANUAL')).toBe(true);
    // A filter and a cursor together.
    const firstSucceeded = await read(id, a.key, { first: 1, filter: { outcome: 'SUCCEEDED' } });
    const rest = await read(id, a.key, {
      after: firstSucceeded.runHistory.pageInfo.endCursor,
      filter: { outcome: 'SUCCEEDED' },
    });
    expect(rest.runHistory.edges.map((e) => e.node.id)).toEqual([ids[2], ids[0]]);
    expect((await read(id, a.key, { filter: { outcome: 'SKIPPED' } })).runHistory.edges).toEqual([]);

    for (const bad of ['not-a-cursor', Buffer.from('[1,2]').toString('base64url')]) {
      const res = await h.request(TaskRunsDocument, { id, after: bad }, { key: a.key });
      expect(res.status).toBe(200);
      expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify(res.body)).toBe('BAD_USER_INPUT');
    }
    const tooMany = await h.request(TaskRunsDocument, { id, first: 101 }, { key: a.key });
    expect(tooMany.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
