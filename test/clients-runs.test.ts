// Reading runs from real frontend clients over real HTTP: Apollo Client
// (InMemoryCache with the generated possibleTypes) and urql (Graphcache with
// the generated introspection), each set up as test/clients/*.ts sets it up,
// against an app whose dispatcher calls a real executor (a node:http server
// that verifies every signature).
//  - a scheduled run, read with TaskRuns: lastRun, runHistory, runs and
//    lastRunAt agree, and match what the executor received;
//  - runTask: the payload's task (inProgress, runs, lastRun) updates the cached
//    task by id; a second runTask while the executor holds the first is a
//    typed InvalidStatus; after the run ends a refetch shows it SUCCEEDED;
//  - without an executor runTask is a typed SchedulerDisabled.
//
// TaskRun has an id, so both caches normalise it: lastRun and the same run in
// runHistory are one cache entry. runHistory takes arguments, so no payload can
// carry the new run into a cached page: after runTask both clients invalidate
// it (urql: the recommended setup in test/clients/urql.ts; Apollo: the
// mutation's update) and the page refetches it.
import type { ApolloCache } from '@apollo/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import {
  RunTaskDocument,
  type RunTaskMutation,
  TaskDocument,
  TaskRunsDocument,
  type TaskRunsQuery,
} from '../src/generated/client/graphql.js';
import { createApolloClient } from './clients/apollo.js';
import { createUrqlClient } from './clients/urql.js';
import { type Delivery, type Executor, startExecutor } from './helpers/executor.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';
import { type Listening, listen } from './helpers/socket.js';

let ex: Executor;
/** An app with an executor and a dispatcher the tests drive. */
let h: Harness;
let server: Listening;
let url: string;
/** An app without an executor: nothing can run. */
let off: Harness;
let offServer: Listening;

beforeAll(async () => {
  ex = await startExecutor();
  [h, off] = await Promise.all([
    createHarness({
      limits: { accountMax: 1000, scheduleMax: 1000 },
      // A generous timeout: a test holds the executor's answer while it sends another request.
      runs: { executorUrl: ex.url, executorSecret: ex.secret, retryBaseMs: 5, timeoutMs: 2_000 },
      dispatcher: true,
    }),
    createHarness({ limits: { accountMax: 1000, scheduleMax: 1000 } }),
  ]);
  [server, offServer] = await Promise.all([listen(h.app), listen(off.app)]);
  url = server.url;
});
afterAll(async () => {
  await Promise.all([server?.close(), offServer?.close()]);
  await Promise.all([h?.close(), off?.close()]);
  await ex?.close();
});

// Monday 2026-06-15 12:00Z; every seeded task runs daily at 00:00 UTC.
const START = Date.UTC(2026, 5, 15, 12, 0, 0);

// Neither cache may complain (missing keys, data lost on a write, heuristic
// fragment matching): both are told the schema's types by codegen.
let warn: MockInstance<typeof console.warn>;
let error: MockInstance<typeof console.error>;
beforeEach(() => {
  h.clock.ms = START;
  ex.status(200, '{"ok":true}');
  warn = vi.spyOn(console, 'warn');
  error = vi.spyOn(console, 'error');
});
afterEach(async () => {
  await h.dispatcher!.idle();
  const said = [...warn.mock.calls, ...error.mock.calls];
  warn.mockRestore();
  error.mockRestore();
  expect(said).toEqual([]);
});

/** A task whose first planned time came and ran, as the dispatcher runs it. */
async function taskThatRan() {
  const { id: accountId, key } = await h.account();
  const taskId = await h.task(accountId, { name: 'nightly' });
  const { nextRunAt } = await h.db.read.task.findUniqueOrThrow({ where: { id: taskId } });
  const scheduledFor = nextRunAt!.toISOString();
  expect(scheduledFor).toBe('2026-06-16T00:00:00.000Z');
  // 200 ms late, as a dispatcher's pass may be.
  h.clock.ms = nextRunAt!.getTime() + 200;
  const pass = await h.dispatcher!.tick();
  expect(pass.started).toBeGreaterThanOrEqual(1);
  await h.dispatcher!.idle();
  return { accountId, key, taskId, scheduledFor, variables: { id: taskId } };
}

/** What the executor received for a task. */
const deliveriesOf = (taskId: string) => ex.deliveries.filter((d) => d.taskId === taskId);

/**
 * The executor holds its next answer until the test releases it (within the
 * timeout), so the run stays in progress meanwhile.
 */
function holdNextAnswer() {
  let arrived!: (d: Delivery) => void;
  const arrival = new Promise<Delivery>((resolve) => {
    arrived = resolve;
  });
  let release!: (status: number) => void;
  const released = new Promise<number>((resolve) => {
    release = resolve;
  });
  ex.answer(async (d, res) => {
    arrived(d);
    res.writeHead(await released).end();
  });
  return { arrival, release };
}

type TaskWithRuns = Extract<TaskRunsQuery['task'], { __typename: 'Task' }>;

/** The scheduled run as every client must read it: one SUCCEEDED run that agrees with the task and the executor. */
function expectOneScheduledRun(task: TaskWithRuns, taskId: string, scheduledFor: string) {
  expect(task).toMatchObject({ id: taskId, status: 'ACTIVE', inProgress: false, runs: 1, consecutiveFailures: 0 });
  // The next planned time moved on by one day; the version did not (runs never change it).
  expect(task).toMatchObject({ nextRunAt: '2026-06-17T00:00:00.000Z', version: 1 });
  const run = task.lastRun!;
  // (No __typename here: urql returns it only where the operation selects it.)
  expect(run).toMatchObject({
    taskId,
    trigger: 'SCHEDULE',
    scheduledFor,
    startedAt: '2026-06-16T00:00:00.200Z',
    outcome: 'SUCCEEDED',
    skipReason: null,
    attempts: 1,
    httpStatus: 200,
    error: null,
  });
  expect(run.finishedAt).not.toBeNull();
  expect(run.durationMs).toBeGreaterThanOrEqual(0);
  expect(task.lastRunAt).toBe(run.startedAt);
  expect(task.runHistory.edges.map((e) => e.node)).toEqual([run]);
  expect(task.runHistory.pageInfo).toMatchObject({ hasNextPage: false, endCursor: task.runHistory.edges[0]!.cursor });
  // The executor got it once, signed, with the run's id and time.
  const got = deliveriesOf(taskId);
  expect(got).toHaveLength(1);
  expect(got[0]).toMatchObject({
    method: 'GET',
    url: '/exec/screenshot?url=https%3A%2F%2Fexample.com',
    runId: run.id,
    scheduledFor,
    attempt: 1,
    signatureValid: true,
  });
}

/** What a "Run now" button does with runTask's answer: an exhaustive switch. */
function renderRunNow(answer: RunTaskMutation['runTask']): string {
  if (!answer) return 'unexpected error';
  switch (answer.__typename) {
    case 'RunTaskSuccess':
      return `started run ${answer.run.id} (${answer.run.outcome})`;
    case 'InvalidStatus':
      return answer.inProgress
        ? `${answer.code}: already running`
        : `${answer.code}: cannot run a ${answer.currentStatus} task`;
    case 'SchedulerDisabled':
      return `${answer.code}: this deployment runs nothing`;
    case 'NotFound':
      return `${answer.code}: not found`;
    case 'Unauthorized':
      return `${answer.code}: sign in`;
    case 'PaymentRequired':
      return `${answer.code}: ${answer.reason}`;
    case 'RateLimited':
      return `${answer.code}: retry in ${answer.retryAfterSeconds}s`;
    case 'QuotaExceeded':
      return `${answer.code}: quota used (${answer.used} of ${answer.limit})`;
    case 'ValidationError':
      return `${answer.code}: invalid ${answer.field}`;
    default: {
      const unhandled: never = answer;
      return unhandled;
    }
  }
}

// ---------------------------------------------------------------------------

describe('Apollo Client', () => {
  /** Evicts every cached runHistory(…) of the task: the next read of it goes to the server. */
  function evictRunHistory(cache: ApolloCache, taskId: string) {
    cache.evict({ id: cache.identify({ __typename: 'Task', id: taskId }), fieldName: 'runHistory' });
  }

  async function setup() {
    const ran = await taskThatRan();
    const client = createApolloClient(url, ran.key);
    const runNow = async (id = ran.taskId) =>
      (
        await client.mutate({
          mutation: RunTaskDocument,
          variables: { id },
          update(cache, { data }) {
            if (data?.runTask?.__typename === 'RunTaskSuccess') evictRunHistory(cache, id);
          },
        })
      ).data?.runTask ?? null;
    const cachedTask = () => narrow(client.readQuery({ query: TaskDocument, variables: ran.variables })?.task, 'Task');
    return { ...ran, client, runNow, cachedTask };
  }

  it('reads a scheduled run: lastRun, runHistory, runs and lastRunAt agree', async () => {
    const { taskId, scheduledFor, variables, client } = await setup();
    const task = narrow((await client.query({ query: TaskRunsDocument, variables })).data?.task, 'Task');
    expectOneScheduledRun(task, taskId, scheduledFor);
    // One entry for the run, referenced by lastRun and by the history's edge.
    const cache = client.cache.extract() as Record<string, Record<string, unknown>>;
    const runKey = client.cache.identify(task.lastRun!)!;
    expect(runKey).toBe(`TaskRun:${task.lastRun!.id}`);
    expect(cache[runKey]).toMatchObject({ outcome: 'SUCCEEDED', scheduledFor });
    expect(cache[`Task:${taskId}`]?.lastRun).toEqual({ __ref: runKey });

    // Paging and filtering are arguments: each page is cached under its own.
    const page = async (filter: { outcome: 'SUCCEEDED' | 'FAILED' }) =>
      narrow(
        (await client.query({ query: TaskRunsDocument, variables: { ...variables, first: 1, filter } })).data?.task,
        'Task',
      ).runHistory;
    expect((await page({ outcome: 'SUCCEEDED' })).edges.map((e) => e.node.id)).toEqual([task.lastRun!.id]);
    expect((await page({ outcome: 'FAILED' })).edges).toEqual([]);
  });

  it('runTask: the payload updates the cached task by id; a second runTask meanwhile is InvalidStatus; a refetch shows SUCCEEDED', async () => {
    const { taskId, variables, client, runNow, cachedTask } = await setup();
    const before = narrow((await client.query({ query: TaskRunsDocument, variables })).data?.task, 'Task');
    expect(before).toMatchObject({ inProgress: false, runs: 1 });
    await client.query({ query: TaskDocument, variables });

    const held = holdNextAnswer();
    const answer = await runNow();
    const started = narrow(answer, 'RunTaskSuccess');
    expect(renderRunNow(answer)).toBe(`started run ${started.run.id} (RUNNING)`);
    expect(started.run).toMatchObject({
      taskId,
      trigger: 'MANUAL',
      outcome: 'RUNNING',
      scheduledFor: '2026-06-16T00:00:00.200Z',
      startedAt: '2026-06-16T00:00:00.200Z',
      finishedAt: null,
      skipReason: null,
    });
    expect(started.task).toMatchObject({ id: taskId, inProgress: true, runs: 2, version: 1 });
    expect(started.task.lastRun).toEqual(started.run);
    // readQuery never goes to the network: this is the payload, normalised by id.
    expect(cachedTask()).toMatchObject({ inProgress: true, runs: 2, lastRunAt: started.run.startedAt });
    // The cached history no longer holds (it lacks the new run): the page refetches it.
    expect(client.readQuery({ query: TaskRunsDocument, variables })).toBeNull();

    // The executor holds the run: the task is in progress, so another run is refused.
    const delivery = await held.arrival;
    expect(delivery).toMatchObject({ runId: started.run.id, attempt: 1, signatureValid: true });
    const again = await runNow();
    expect(narrow(again, 'InvalidStatus')).toMatchObject({
      code: 'INVALID_STATUS',
      currentStatus: 'ACTIVE',
      inProgress: true,
    });
    expect(renderRunNow(again)).toBe('INVALID_STATUS: already running');
    // Nothing about the refusal touched the cached task.
    expect(cachedTask()).toMatchObject({ inProgress: true, runs: 2 });

    held.release(200);
    await h.dispatcher!.idle();
    const after = narrow(
      (await client.query({ query: TaskRunsDocument, variables, fetchPolicy: 'network-only' })).data?.task,
      'Task',
    );
    expect(after).toMatchObject({ inProgress: false, runs: 2, lastRunAt: started.run.startedAt });
    expect(after.lastRun).toMatchObject({
      id: started.run.id,
      trigger: 'MANUAL',
      outcome: 'SUCCEEDED',
      attempts: 1,
      httpStatus: 200,
    });
    expect(after.runHistory.edges.map((e) => [e.node.trigger, e.node.outcome])).toEqual([
      ['MANUAL', 'SUCCEEDED'],
      ['SCHEDULE', 'SUCCEEDED'],
    ]);
    expect(after.runHistory.edges[0]!.node).toEqual(after.lastRun);
    // The refetch updated the task entry every cached view reads.
    expect(cachedTask()).toMatchObject({ inProgress: false, runs: 2 });
    expect(deliveriesOf(taskId).map((d) => d.runId)).toEqual([before.lastRun!.id, started.run.id]);
  });

  it('errors are typed union members with a code: SchedulerDisabled without an executor, NotFound', async () => {
    const { id: accountId, key } = await off.account();
    const taskId = await off.task(accountId);
    const client = createApolloClient(offServer.url, key);
    const run = async (id: string) =>
      (await client.mutate({ mutation: RunTaskDocument, variables: { id } })).data?.runTask ?? null;

    const disabled = await run(taskId);
    expect(narrow(disabled, 'SchedulerDisabled').code).toBe('SCHEDULER_DISABLED');
    expect(renderRunNow(disabled)).toBe('SCHEDULER_DISABLED: this deployment runs nothing');
    // Nothing was started or faked, and no quota was consumed.
    const task = narrow(
      (await client.query({ query: TaskRunsDocument, variables: { id: taskId } })).data?.task,
      'Task',
    );
    expect(task).toMatchObject({ inProgress: false, runs: 0, lastRun: null, lastRunAt: null });
    expect(task.runHistory.edges).toEqual([]);
    expect(await off.quotaUsed(accountId)).toBe(0);

    const { key: runnerKey } = await h.account();
    const missing = await createApolloClient(url, runnerKey).mutate({
      mutation: RunTaskDocument,
      variables: { id: 'missing' },
    });
    expect(renderRunNow(missing.data?.runTask ?? null)).toBe('NOT_FOUND: not found');
  });
});

describe('urql with Graphcache', () => {
  async function setup() {
    const ran = await taskThatRan();
    const client = createUrqlClient(url, ran.key);
    const runNow = async (id = ran.taskId) => {
      const result = await client.mutation(RunTaskDocument, { id }).toPromise();
      expect(result.error).toBeUndefined();
      return result.data?.runTask ?? null;
    };
    const cachedTask = async () =>
      narrow(
        (await client.query(TaskDocument, ran.variables, { requestPolicy: 'cache-only' }).toPromise()).data?.task,
        'Task',
      );
    const fetchRuns = async (requestPolicy: 'cache-first' | 'network-only' = 'cache-first') => {
      const result = await client.query(TaskRunsDocument, ran.variables, { requestPolicy }).toPromise();
      expect(result.error).toBeUndefined();
      return narrow(result.data?.task, 'Task');
    };
    return { ...ran, client, runNow, cachedTask, fetchRuns };
  }

  it('reads a scheduled run: lastRun, runHistory, runs and lastRunAt agree', async () => {
    const { taskId, scheduledFor, variables, client, fetchRuns } = await setup();
    const task = await fetchRuns();
    expectOneScheduledRun(task, taskId, scheduledFor);
    // Served from the cache now, identical.
    const cached = await client.query(TaskRunsDocument, variables, { requestPolicy: 'cache-only' }).toPromise();
    expect(narrow(cached.data?.task, 'Task')).toEqual(task);

    const page = async (filter: { outcome: 'SUCCEEDED' | 'FAILED' }) => {
      const result = await client.query(TaskRunsDocument, { ...variables, first: 1, filter }).toPromise();
      expect(result.error).toBeUndefined();
      return narrow(result.data?.task, 'Task').runHistory;
    };
    expect((await page({ outcome: 'SUCCEEDED' })).edges.map((e) => e.node.id)).toEqual([task.lastRun!.id]);
    expect((await page({ outcome: 'FAILED' })).edges).toEqual([]);
  });

  it('runTask: the payload updates the cached task by id; a second runTask meanwhile is InvalidStatus; a refetch shows SUCCEEDED', async () => {
    const { taskId, variables, client, runNow, cachedTask, fetchRuns } = await setup();
    const before = await fetchRuns();
    expect(before).toMatchObject({ inProgress: false, runs: 1 });
    await client.query(TaskDocument, variables).toPromise();

    const held = holdNextAnswer();
    const answer = await runNow();
    const started = narrow(answer, 'RunTaskSuccess');
    expect(renderRunNow(answer)).toBe(`started run ${started.run.id} (RUNNING)`);
    expect(started.run).toMatchObject({ taskId, trigger: 'MANUAL', outcome: 'RUNNING', finishedAt: null });
    expect(started.task).toMatchObject({ id: taskId, inProgress: true, runs: 2, version: 1 });
    // cache-only never goes to the network: this is the payload, normalised by id.
    expect(await cachedTask()).toMatchObject({ inProgress: true, runs: 2, lastRunAt: started.run.startedAt });
    // The recommended setup invalidated the cached history (it lacks the new run).
    const stale = await client.query(TaskRunsDocument, variables, { requestPolicy: 'cache-only' }).toPromise();
    expect(stale.data?.task ?? null).toBeNull();

    const delivery = await held.arrival;
    expect(delivery).toMatchObject({ runId: started.run.id, attempt: 1, signatureValid: true });
    const again = await runNow();
    expect(narrow(again, 'InvalidStatus')).toMatchObject({
      code: 'INVALID_STATUS',
      currentStatus: 'ACTIVE',
      inProgress: true,
    });
    expect(renderRunNow(again)).toBe('INVALID_STATUS: already running');
    expect(await cachedTask()).toMatchObject({ inProgress: true, runs: 2 });

    held.release(200);
    await h.dispatcher!.idle();
    const after = await fetchRuns('network-only');
    expect(after).toMatchObject({ inProgress: false, runs: 2, lastRunAt: started.run.startedAt });
    expect(after.lastRun).toMatchObject({ id: started.run.id, trigger: 'MANUAL', outcome: 'SUCCEEDED', attempts: 1 });
    expect(after.runHistory.edges.map((e) => [e.node.trigger, e.node.outcome])).toEqual([
      ['MANUAL', 'SUCCEEDED'],
      ['SCHEDULE', 'SUCCEEDED'],
    ]);
    expect(after.runHistory.edges[0]!.node).toEqual(after.lastRun);
    expect(await cachedTask()).toMatchObject({ inProgress: false, runs: 2 });
    expect(deliveriesOf(taskId).map((d) => d.runId)).toEqual([before.lastRun!.id, started.run.id]);
  });

  it('errors are typed union members with a code: SchedulerDisabled without an executor, NotFound', async () => {
    const { id: accountId, key } = await off.account();
    const taskId = await off.task(accountId);
    const client = createUrqlClient(offServer.url, key);
    const disabled = await client.mutation(RunTaskDocument, { id: taskId }).toPromise();
    expect(disabled.error).toBeUndefined();
    expect(narrow(disabled.data?.runTask, 'SchedulerDisabled').code).toBe('SCHEDULER_DISABLED');
    expect(renderRunNow(disabled.data?.runTask ?? null)).toBe('SCHEDULER_DISABLED: this deployment runs nothing');
    const read = await client.query(TaskRunsDocument, { id: taskId }).toPromise();
    expect(narrow(read.data?.task, 'Task')).toMatchObject({ inProgress: false, runs: 0, lastRun: null });
    expect(await off.quotaUsed(accountId)).toBe(0);

    const { key: runnerKey } = await h.account();
    const missing = await createUrqlClient(url, runnerKey).mutation(RunTaskDocument, { id: 'missing' }).toPromise();
    expect(renderRunNow(missing.data?.runTask ?? null)).toBe('NOT_FOUND: not found');
  });
});
