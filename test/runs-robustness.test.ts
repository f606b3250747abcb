// What a review of the dispatcher found, kept fixed: waiting runs free their
// slot, forged cursors are refused, messages stay short, and a deployment
// without an executor ends the runs nobody will make.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_EXECUTOR } from '../src/config.js';
import { TaskRunsDocument, UpdateTaskDocument } from '../src/generated/client/graphql.js';
import { claimDueRuns } from '../src/services/runs/claim.js';
import { abandonOrphanedRuns } from '../src/services/runs/lease.js';
import { leaseMs, MAX_RETRY_DELAY_MS, retryDelayMs } from '../src/services/runs/policy.js';
import { startedRun } from '../src/services/runs/records.js';
import { type Executor, startExecutor } from './helpers/executor.js';
import { createHarness, type Harness } from './helpers/harness.js';
import { until } from './helpers/until.js';

const readTask = (h: Harness, id: string) => h.db.read.task.findUniqueOrThrow({ where: { id } });

describe('a run waiting to retry', () => {
  let ex: Executor;
  let h: Harness;
  beforeAll(async () => {
    ex = await startExecutor();
    h = await createHarness({
      runs: { executorUrl: ex.url, executorSecret: ex.secret, retryBaseMs: 400, timeoutMs: 2_000, concurrency: 1 },
      dispatcher: true,
    });
  });
  afterAll(async () => {
    await h.close();
    await ex.close();
  });

  it('gives its slot to other due runs meanwhile (EXECUTOR_CONCURRENCY 1)', async () => {
    const a = await h.account();
    const failing = await h.task(a.id, { nextRunAt: new Date(h.clock.ms - 1000) });
    ex.answer((d, res) => {
      res.writeHead(d.taskId === failing ? 503 : 200).end();
    });
    expect((await h.dispatcher!.tick()).started).toBe(1);
    await until('the first attempt to fail', () => ex.deliveries.length === 1);
    await until('the slot to be free', () => h.dispatcher!.inFlight === 0);
    const other = await h.task(a.id, { nextRunAt: new Date(h.clock.ms - 500) });
    // The only slot is free while the failing run waits: the other task runs now.
    expect((await h.dispatcher!.tick()).started).toBe(1);
    await h.dispatcher!.idle();
    const order = ex.deliveries.map((d) => [d.taskId, d.attempt]);
    expect(order.slice(0, 2)).toEqual([
      [failing, 1],
      [other, 1],
    ]);
    // And the failing run still made all its attempts with the same run id.
    expect(ex.deliveries.filter((d) => d.taskId === failing).map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect((await readTask(h, failing)).inProgress).toBe(false);
    expect((await readTask(h, other)).inProgress).toBe(false);
  });

  it('sends a taken-over run exactly as claimed, even after the task was changed', async () => {
    const a = await h.account();
    const id = await h.task(a.id, { nextRunAt: new Date(h.clock.ms - 1000) });
    ex.status(200);
    // Claimed by a dispatcher that then dies before calling the executor.
    const claimed = await claimDueRuns({ db: h.db, clock: h.clock, runs: h.deps.runs, events: h.deps.events }, 1);
    expect(claimed.started).toHaveLength(1);
    const res = await h.gql(UpdateTaskDocument, { id, input: { query: 'url=https%3A%2F%2Fchanged.example' } }, a.key);
    expect(res.updateTask?.__typename).toBe('UpdateTaskSuccess');
    h.clock.advance(leaseMs(h.deps.runs) / 1000 + 1);
    const before = ex.deliveries.length;
    expect((await h.dispatcher!.tick()).resumed).toBe(1);
    await h.dispatcher!.idle();
    const retry = ex.deliveries.slice(before);
    expect(retry.map((d) => [d.runId, d.url, d.attempt])).toEqual([
      [claimed.started[0]!.run.id, '/exec/screenshot?url=https%3A%2F%2Fexample.com', 2],
    ]);
  });

  it('ends runs whose attempts are used up even while every slot is busy', async () => {
    const a = await h.account();
    const held: ServerResponse[] = [];
    ex.answer((_d, res) => {
      held.push(res);
    });
    const busy = await h.task(a.id, { nextRunAt: new Date(h.clock.ms - 1000) });
    expect((await h.dispatcher!.tick()).started).toBe(1);
    await until('the only slot to be busy', () => held.length === 1);
    // A run whose dispatcher died during its last attempt.
    const orphan = await h.task(a.id, { inProgress: true, nextRunAt: null });
    const past = new Date(h.clock.ms - 60_000);
    await h.db.write((w) =>
      w.insertRun({
        ...startedRun(
          { id: orphan, accountId: a.id, api: 'PDF', query: 'url=x' },
          'MANUAL',
          past,
          past,
          past,
          1,
          'run-spent',
        ),
        attempts: h.deps.runs.maxAttempts,
      }),
    );
    const pass = await h.dispatcher!.tick();
    expect(pass).toMatchObject({ full: true, timedOut: 1, resumed: 0 });
    expect(await h.db.read.taskRun.findUniqueOrThrow({ where: { id: 'run-spent' } })).toMatchObject({
      outcome: 'TIMED_OUT',
    });
    expect((await readTask(h, orphan)).inProgress).toBe(false);
    for (const res of held) res.writeHead(200).end();
    ex.status(200);
    await h.dispatcher!.idle();
    expect((await readTask(h, busy)).inProgress).toBe(false);
  });

  it('waits at most an hour between attempts, whatever the base and the count (no timer overflow)', () => {
    for (const attempt of [1, 11, 20]) {
      const delay = retryDelayMs({ retryBaseMs: 3_600_000 }, attempt, () => 1);
      expect(delay).toBeLessThanOrEqual(MAX_RETRY_DELAY_MS);
      expect(delay).toBeLessThan(2 ** 31 - 1);
    }
  });
});

describe('reads and records', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('refuses a cursor whose time no Date can hold, as a bad argument (not a masked failure)', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const forged = Buffer.from(JSON.stringify([1e20, 'x'])).toString('base64url');
    const history = await h.request(TaskRunsDocument, { id, after: forged }, { key: a.key });
    expect(history.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const tasks = await h.request(
      `query($after: String) { tasks(after: $after) { __typename ... on ValidationError { field } } }`,
      { after: forged },
      { key: a.key },
    );
    expect(tasks.body.data).toEqual({ tasks: { __typename: 'ValidationError', field: 'after' } });
    expect(h.logLines.join('')).not.toMatch(/"level":50/);
  });
});

describe('runHistory over a list', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('is bounded per request before anything runs: 100 tasks × 20 runs is fine, × 21 is refused', async () => {
    const a = await h.account();
    await h.task(a.id);
    const doc = `query($n: Int) { tasks(first: 100) { __typename ... on TaskConnection { edges { node { id runHistory(first: $n) { edges { cursor } } } } } } }`;
    const fine = await h.request(doc, { n: 20 }, { key: a.key });
    expect(fine.body.errors).toBeUndefined();
    const refused = await h.request(doc, { n: 21 }, { key: a.key });
    expect(refused.body.data ?? null).toBeNull();
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.body.errors?.[0]?.message).toMatch(/2100 runs of history; at most 2000/);
    // Aliases count too.
    const aliased = await h.request(
      `{ a: tasks(first: 100) { ... on TaskConnection { edges { node { runHistory { edges { cursor } } } } } }
         b: tasks(first: 1) { ... on TaskConnection { edges { node { runHistory(first: 1) { edges { cursor } } } } } } }`,
      {},
      { key: a.key },
    );
    expect(aliased.body.errors?.[0]?.message).toMatch(/2001 runs of history/);
  });

  it('counts a variable the request leaves out at its default, for runHistory and nextRuns alike', async () => {
    const a = await h.account();
    const history = await h.request(
      `query($n: Int = 100) { tasks(first: $n) { ... on TaskConnection { edges { node { runHistory(first: $n) { edges { cursor } } } } } } }`,
      {},
      { key: a.key },
    );
    expect(history.body.errors?.[0]?.message).toMatch(/10000 runs of history/);
    const planned = await h.request(
      `query($c: Int = 100) { tasks(first: 100) { ... on TaskConnection { edges { node { nextRuns(count: $c) { at } } } } } }`,
      {},
      { key: a.key },
    );
    expect(planned.body.errors?.[0]?.message).toMatch(/could plan 10000 runs/);
  });
});

describe('the dispatcher loop', () => {
  let ex: Executor;
  let h: Harness;
  beforeAll(async () => {
    ex = await startExecutor();
    h = await createHarness({
      runs: { executorUrl: ex.url, executorSecret: ex.secret, timeoutMs: 1_000 },
      dispatcher: true,
    });
  });
  afterAll(async () => {
    await h.close();
    await ex.close();
  });

  it('keeps taking runs over while the clock stands still (it paces itself on real time)', async () => {
    const a = await h.account();
    h.dispatcher!.start();
    // Let the loop make its first passes on this frozen clock, then orphan a run.
    await new Promise((r) => setTimeout(r, 400));
    const id = await h.task(a.id, { inProgress: true, nextRunAt: null });
    const past = new Date(h.clock.ms - 1000);
    await h.db.write((w) =>
      w.insertRun(
        startedRun({ id, accountId: a.id, api: 'PDF', query: 'url=x' }, 'MANUAL', past, past, past, 0, 'run-orphan'),
      ),
    );
    await until('the orphan to be delivered', () => ex.deliveries.some((d) => d.runId === 'run-orphan'), 3_000);
    await until('the orphan to be recorded', async () => {
      const run = await h.db.read.taskRun.findUniqueOrThrow({ where: { id: 'run-orphan' } });
      return run.outcome === 'SUCCEEDED';
    });
  });

  it('stop() waits for a slot reserved by a runTask still committing', async () => {
    const d = h.dispatcher!;
    // A pass of the running loop holds every free slot while it claims: wait for one.
    await until('a free slot', () => d.reserve());
    let stopped = false;
    const stopping = d.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(stopped).toBe(false);
    d.release();
    await stopping;
    expect(stopped).toBe(true);
    expect(d.inFlight).toBe(0);
  });
});

describe('a deployment without an executor', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('ends the runs nobody will make (FAILED), releasing their tasks; runs still held elsewhere are left', async () => {
    const a = await h.account();
    const [queued, held] = [await h.task(a.id, { inProgress: true }), await h.task(a.id, { inProgress: true })];
    const now = new Date(h.clock.ms);
    await h.db.write(async (w) => {
      // Queued by runTask on an API-only instance (lease over), and one a live dispatcher holds.
      await w.insertRun(
        startedRun(
          { id: queued, accountId: a.id, api: 'PDF', query: 'url=x' },
          'MANUAL',
          now,
          now,
          now,
          0,
          'run-queued',
        ),
      );
      const lease = new Date(h.clock.ms + 60_000);
      await w.insertRun(
        startedRun(
          { id: held, accountId: a.id, api: 'PDF', query: 'url=x' },
          'SCHEDULE',
          now,
          now,
          lease,
          1,
          'run-held',
        ),
      );
    });
    expect(await abandonOrphanedRuns({ db: h.db, clock: h.clock, runs: NO_EXECUTOR, events: h.deps.events })).toBe(1);
    const ended = await h.db.read.taskRun.findUniqueOrThrow({ where: { id: 'run-queued' } });
    expect(ended).toMatchObject({ outcome: 'FAILED', attempts: 0, leaseUntil: null });
    expect(ended.error).toMatch(/no executor/);
    expect((await readTask(h, queued)).inProgress).toBe(false);
    expect(await h.db.read.taskRun.findUniqueOrThrow({ where: { id: 'run-held' } })).toMatchObject({
      outcome: 'RUNNING',
    });
    expect((await readTask(h, held)).inProgress).toBe(true);
  });
});

describe('MISSED records', () => {
  let ex: Executor;
  let h: Harness;
  beforeAll(async () => {
    ex = await startExecutor();
    h = await createHarness({ runs: { executorUrl: ex.url, executorSecret: ex.secret }, dispatcher: true });
  });
  afterAll(async () => {
    await h.close();
    await ex.close();
  });

  it('say what was missed in at most 200 characters, with or without a catch-up run', async () => {
    const a = await h.account();
    await h.task(a.id, { nextRunAt: new Date(h.clock.ms - 3 * 86_400_000) });
    // Daily at midnight; now is noon: the last midnight is outside the 300 s window.
    await h.dispatcher!.tick();
    await h.dispatcher!.idle();
    const missed = await h.db.read.taskRun.findMany({ where: { skipReason: 'MISSED' } });
    expect(missed).toHaveLength(1);
    expect(missed[0]!.error!.length).toBeLessThanOrEqual(200);
    expect(missed[0]!.error).toMatch(/catch-up window/);
  });
});
