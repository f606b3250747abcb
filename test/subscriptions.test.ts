// Subscription.taskEvents over yoga's SSE transport, end to end through
// `app.fetch`: every producer's event (with the task as it is after the
// change, in the order of the changes), the `ids` filter, isolation between
// accounts, each refusal, the re-checks that end an open stream (revoked key,
// lapsed plan), a client that leaves, a consumer too slow, masking, a request
// that does not accept an event stream, and (over a real socket) clients
// that disconnect.
import type { ServerResponse } from 'node:http';
import { print } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelScheduleDocument,
  CreateTaskDocument,
  DeleteTaskDocument,
  DeleteTasksDocument,
  PauseScheduleDocument,
  ResumeScheduleDocument,
  RunTaskDocument,
  TaskDocument,
  TaskEventsDocument,
  type TaskEventsSubscription,
  type TaskEventsSubscriptionVariables,
  UpdateTaskDocument,
  ViewerDocument,
} from '../src/generated/client/graphql.js';
import { insertApiKey, revokeApiKey } from '../src/services/accounts.js';
import { MemoryEventBus } from '../src/services/events/memory-bus.js';
import type { TaskEventListener } from '../src/services/events/task-events.js';
import { abandonOrphanedRuns } from '../src/services/runs/lease.js';
import { type Executor, startExecutor } from './helpers/executor.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';
import { type Listening, listen } from './helpers/socket.js';
import { SseReader } from './helpers/sse.js';
import { until } from './helpers/until.js';

const SUBSCRIPTION = print(TaskEventsDocument);
const DAY = 86_400_000;
const OK = (_d: unknown, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
};

type Item = NonNullable<TaskEventsSubscription['taskEvents']>;

/** One taskEvents stream, read from as soon as it is made (see `readAtOnce`). */
class TaskEventReader extends SseReader {
  constructor(response: Response) {
    super(response, { readAtOnce: true });
  }

  /** The next `event: next` payload, which must carry no top-level errors. */
  async next(timeoutMs = 5_000): Promise<Item> {
    const { payload, text } = await this.raw<{ data?: TaskEventsSubscription | null; errors?: unknown }>(timeoutMs);
    expect(payload.errors, text).toBeUndefined();
    const item = payload.data?.taskEvents;
    expect(item, text).toBeTruthy();
    return item as Item;
  }
}

/** Readers still open at the end of a test (cancelled in afterEach). */
const open = new Set<TaskEventReader>();

interface SubscribeOptions {
  /** Another subscription document (default: the TaskEvents operation clients copy). */
  query?: string;
  headers?: Record<string, string>;
}

/** POST /graphql asking for an event stream; returns the raw response. */
async function sseFetch(
  hh: Harness,
  key: string | undefined,
  variables: TaskEventsSubscriptionVariables = {},
  { query = SUBSCRIPTION, headers = {} }: SubscribeOptions = {},
): Promise<Response> {
  return hh.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(key === undefined ? {} : { 'x-access-key': key }),
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
}

/** Subscribes; the answer is a 200 event stream (refusals too: they arrive as its one item). */
async function subscribe(
  hh: Harness,
  key: string | undefined,
  variables: TaskEventsSubscriptionVariables = {},
  options: SubscribeOptions = {},
): Promise<TaskEventReader> {
  const res = await sseFetch(hh, key, variables, options);
  expect(res.status, await (res.status === 200 ? '' : res.clone().text())).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = new TaskEventReader(res);
  open.add(reader);
  return reader;
}

async function closeAll(): Promise<void> {
  await Promise.all([...open].map((r) => r.cancel()));
  open.clear();
}

/** A refused (or ended) subscription: exactly this one item, then complete. */
async function refusedWith<N extends Item['__typename']>(
  reader: TaskEventReader,
  typename: N,
  timeoutMs = 5_000,
): Promise<Extract<Item, { __typename: N }>> {
  const item = narrow(await reader.next(timeoutMs), typename);
  await reader.complete(timeoutMs);
  return item;
}

/** Nothing is open for the account on this instance (listeners on the bus, slots under the cap). */
async function released(hh: Harness, accountId: string): Promise<void> {
  await until(
    `account ${accountId}'s subscriptions released (listeners ${hh.deps.events.listenerCount(accountId)}, open ${hh.deps.subscriptions.count(accountId)})`,
    () => hh.deps.events.listenerCount(accountId) === 0 && hh.deps.subscriptions.count(accountId) === 0,
  );
}

// ---------------------------------------------------------------------------
// The API as one account's client uses it.

function client(hh: Harness, key: string) {
  return {
    async create(name = 'a task', enabled = true) {
      const input = {
        name,
        api: 'SCREENSHOT' as const,
        query: 'url=https%3A%2F%2Fexample.com',
        frequency: 'EVERY_HOUR' as const,
        enabled,
      };
      return narrow((await hh.gql(CreateTaskDocument, { input }, key)).createTask, 'CreateTaskSuccess').task;
    },
    async update(id: string, input: { name?: string; crontab?: string; frequency?: 'EVERY_DAY' }) {
      return narrow((await hh.gql(UpdateTaskDocument, { id, input }, key)).updateTask, 'UpdateTaskSuccess');
    },
    async pause(id: string) {
      return narrow((await hh.gql(PauseScheduleDocument, { id }, key)).pauseSchedule, 'PauseScheduleSuccess').task;
    },
    async resume(id: string) {
      return narrow((await hh.gql(ResumeScheduleDocument, { id }, key)).resumeSchedule, 'ResumeScheduleSuccess').task;
    },
    async cancel(id: string) {
      return narrow((await hh.gql(CancelScheduleDocument, { id }, key)).cancelSchedule, 'CancelScheduleSuccess').task;
    },
    async delete(id: string) {
      return narrow((await hh.gql(DeleteTaskDocument, { id }, key)).deleteTask, 'DeleteTaskSuccess').deletedId;
    },
    async deleteMany(ids: string[], atomic = false) {
      return (await hh.gql(DeleteTasksDocument, { ids, atomic }, key)).deleteTasks;
    },
    async run(id: string) {
      return narrow((await hh.gql(RunTaskDocument, { id }, key)).runTask, 'RunTaskSuccess');
    },
    /** The task as a read answers it now (TaskFields, as events carry it). */
    async read(id: string) {
      const { __typename, ...task } = narrow((await hh.gql(TaskDocument, { id }, key)).task, 'Task');
      return task;
    },
    async rateLimit() {
      return narrow((await hh.gql(ViewerDocument, {}, key)).viewer, 'Account').rateLimit;
    },
  };
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.NaN);

/** A RUNNING run whose dispatcher died during its last attempt (lease over), as the database holds it. */
async function seedOrphanedRun(hh: Harness, accountId: string, taskId: string, attempts: number): Promise<string> {
  const runId = `r-orphan-${Math.random().toString(36).slice(2, 10)}`;
  const startedAt = new Date(hh.clock.now() - 60_000);
  await hh.db.transaction(async (tx) => {
    await tx.taskRun.create({
      data: {
        id: runId,
        taskId,
        accountId,
        trigger: 'SCHEDULE',
        api: 'SCREENSHOT',
        query: 'url=https%3A%2F%2Fexample.com',
        scheduledFor: startedAt,
        startedAt,
        outcome: 'RUNNING',
        attempts,
        leaseUntil: new Date(hh.clock.now() - 1_000),
      },
    });
    await tx.task.update({
      where: { id: taskId },
      data: { inProgress: true, lastRunId: runId, lastRunAt: startedAt, runs: { increment: 1 } },
    });
  });
  return runId;
}

// ===========================================================================
// One app with an executor and a dispatcher the tests drive.

let h: Harness;
let ex: Executor;

beforeAll(async () => {
  ex = await startExecutor();
  h = await createHarness({
    runs: {
      executorUrl: ex.url,
      executorSecret: ex.secret,
      timeoutMs: 1_000,
      retryBaseMs: 5,
      maxAttempts: 1,
      failuresToError: 2,
    },
    dispatcher: true,
    // Many operations at one clock time: the rate limit is tested on its own harness.
    limits: { accountMax: 100_000, scheduleMax: 100_000 },
  });
});
afterAll(async () => {
  await closeAll();
  await h?.close();
  await ex?.close();
});
afterEach(async () => {
  await closeAll();
  await h.dispatcher!.idle();
  // Nothing failed unexpectedly (the harness logs errors only).
  expect(h.logLines.splice(0)).toEqual([]);
  ex.answer(OK);
  // Every tick claims every due task: leave none of this test's to the next.
  await h.db.transaction((tx) =>
    tx.task.updateMany({ where: { status: 'ACTIVE' }, data: { status: 'PAUSED', nextRunAt: null } }),
  );
});

describe('each producer announces its change, with the task as it is after it', () => {
  it('createTask: TaskChanged CREATED', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const sub = await subscribe(h, a.key);
    const created = await api.create('fresh');
    const ev = narrow(await sub.next(), 'TaskChanged');
    expect(ev.change).toBe('CREATED');
    expect(ev.task).toEqual(created);
    expect(ev.task).toMatchObject({ name: 'fresh', status: 'ACTIVE', version: 1, inProgress: false, runs: 0 });
    expect(ms(ev.task.nextRunAt)).toBeGreaterThan(h.clock.now());
    expect(ev.task).toEqual(await api.read(created.id));
  });

  it('updateTask: UPDATED for a change, nothing for an update that changes nothing', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const task = await api.create('before');
    const sub = await subscribe(h, a.key);

    const renamed = await api.update(task.id, { name: 'after' });
    expect(renamed.changed).toBe(true);
    const ev = narrow(await sub.next(), 'TaskChanged');
    expect(ev).toMatchObject({ change: 'UPDATED', task: { id: task.id, name: 'after', version: 2 } });
    expect(ev.task).toEqual(renamed.task);

    // A new schedule plans the next run from now: the event carries the new nextRunAt.
    const rescheduled = await api.update(task.id, { frequency: 'EVERY_DAY', crontab: '30 6 * * *' });
    const ev2 = narrow(await sub.next(), 'TaskChanged');
    expect(ev2).toMatchObject({ change: 'UPDATED', task: { crontab: '30 6 * * *', version: 3 } });
    expect(ev2.task.nextRunAt).toBe(rescheduled.task.nextRunAt);
    expect(ev2.task.nextRunAt).not.toBe(ev.task.nextRunAt);

    // The same values again: changed false, no event. The next event is the pause after it.
    const same = await api.update(task.id, { name: 'after' });
    expect(same.changed).toBe(false);
    expect(same.task.version).toBe(3);
    await api.pause(task.id);
    const next = narrow(await sub.next(), 'TaskChanged');
    expect(next).toMatchObject({ change: 'PAUSED', task: { version: 4 } });
  });

  it('pause, resume, cancel: PAUSED, RESUMED, CANCELLED in the order made, each with status, version and nextRunAt', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const task = await api.create();
    const sub = await subscribe(h, a.key);

    const paused = await api.pause(task.id);
    h.clock.advance(3 * 3600 + 17);
    const resumed = await api.resume(task.id);
    const cancelled = await api.cancel(task.id);

    const p = narrow(await sub.next(), 'TaskChanged');
    const r = narrow(await sub.next(), 'TaskChanged');
    const c = narrow(await sub.next(), 'TaskChanged');
    expect([p.change, r.change, c.change]).toEqual(['PAUSED', 'RESUMED', 'CANCELLED']);
    expect(p.task).toEqual(paused);
    expect(r.task).toEqual(resumed);
    expect(c.task).toEqual(cancelled);
    expect(p.task).toMatchObject({ status: 'PAUSED', enabled: false, version: 2, nextRunAt: null });
    expect(r.task).toMatchObject({ status: 'ACTIVE', enabled: true, version: 3 });
    // Resuming plans from the time of the resume, not from before the pause.
    expect(ms(r.task.nextRunAt)).toBeGreaterThan(h.clock.now());
    expect(ms(r.task.nextRunAt)).toBeLessThanOrEqual(h.clock.now() + 3_600_000);
    expect(c.task).toMatchObject({ status: 'CANCELLED', enabled: false, version: 4, nextRunAt: null });
    expect(c.task).toEqual(await api.read(task.id));
  });

  it('deleteTask: TaskDeleted with taskId and deletedId', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const task = await api.create();
    // Both fields of TaskDeleted (the TaskEvents operation selects taskId only).
    const sub = await subscribe(
      h,
      a.key,
      {},
      { query: 'subscription { taskEvents { __typename ... on TaskDeleted { taskId deletedId } } }' },
    );
    expect(await api.delete(task.id)).toBe(task.id);
    expect(await sub.next()).toEqual({ __typename: 'TaskDeleted', taskId: task.id, deletedId: task.id });
  });

  it('deleteTasks: one TaskDeleted per deleted id in the order given, none for NotFound or InvalidStatus items, none for an atomic abort', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const [t1, t2, t3] = [await api.create('1'), await api.create('2'), await api.create('3')];
    const busy = await h.task(a.id, { inProgress: true });
    const sub = await subscribe(h, a.key);

    // Atomic with a missing id: nothing deleted, nothing announced.
    narrow(await api.deleteMany([t1.id, 'no-such-task'], true), 'DeleteTasksAborted');
    // Non-atomic: t3 and t1 deleted; the missing and the busy ones not.
    const res = narrow(await api.deleteMany([t3.id, 'no-such-task', busy, t1.id, t3.id]), 'DeleteTasksSuccess');
    expect(res.deletedIds).toEqual([t3.id, t1.id]);
    expect(res.results.map((r) => r.outcome.__typename)).toEqual([
      'TaskDeleted',
      'NotFound',
      'InvalidStatus',
      'TaskDeleted',
    ]);
    // A marker: nothing was announced in between.
    await api.pause(t2.id);

    expect(await sub.next()).toEqual({ __typename: 'TaskDeleted', taskId: t3.id });
    expect(await sub.next()).toEqual({ __typename: 'TaskDeleted', taskId: t1.id });
    expect(narrow(await sub.next(), 'TaskChanged')).toMatchObject({ change: 'PAUSED', task: { id: t2.id } });
  });

  it('runTask: RunStarted (MANUAL, RUNNING, task in progress), then RunFinished SUCCEEDED', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const task = await api.create();
    const sub = await subscribe(h, a.key);

    const started = await api.run(task.id);
    const s = narrow(await sub.next(), 'RunStarted');
    expect(s.run).toEqual(started.run);
    expect(s.run).toMatchObject({ taskId: task.id, trigger: 'MANUAL', outcome: 'RUNNING', finishedAt: null });
    expect(ms(s.run.startedAt)).toBe(h.clock.now());
    const { lastRun, ...taskNow } = started.task;
    expect(lastRun?.id).toBe(s.run.id);
    expect(s.task).toEqual(taskNow);
    expect(s.task).toMatchObject({ inProgress: true, runs: 1, lastRunAt: s.run.startedAt, version: task.version });
    expect(s.task.nextRunAt).toBe(task.nextRunAt);

    await h.dispatcher!.idle();
    const f = narrow(await sub.next(), 'RunFinished');
    expect(f.run).toMatchObject({ id: s.run.id, outcome: 'SUCCEEDED', attempts: 1, httpStatus: 200, error: null });
    expect(f.run.finishedAt).not.toBeNull();
    expect(f.task).toMatchObject({ id: task.id, inProgress: false, runs: 1, lastRunAt: s.run.startedAt });
    expect(f.task).toEqual(await api.read(task.id));
  });

  it('a scheduled run: RunStarted (SCHEDULE, next run planned) then RunFinished SUCCEEDED, task no longer in progress', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const id = await h.task(a.id);
    const before = await api.read(id);
    const planned = ms(before.nextRunAt);
    const sub = await subscribe(h, a.key);

    h.clock.ms = planned + 1_500;
    expect(await h.dispatcher!.tick()).toMatchObject({ started: 1 });
    const s = narrow(await sub.next(), 'RunStarted');
    expect(s.run).toMatchObject({ taskId: id, trigger: 'SCHEDULE', outcome: 'RUNNING', attempts: 1 });
    expect(ms(s.run.scheduledFor)).toBe(planned);
    expect(ms(s.run.startedAt)).toBe(planned + 1_500);
    expect(s.task).toMatchObject({ id, inProgress: true, runs: 1, lastRunAt: s.run.startedAt, version: 1 });
    expect(ms(s.task.nextRunAt)).toBe(planned + DAY);

    await h.dispatcher!.idle();
    const f = narrow(await sub.next(), 'RunFinished');
    expect(f.run).toMatchObject({ id: s.run.id, outcome: 'SUCCEEDED', httpStatus: 200 });
    expect(f.task).toMatchObject({
      id,
      inProgress: false,
      runs: 1,
      lastRunAt: s.run.startedAt,
      consecutiveFailures: 0,
    });
    expect(ms(f.task.nextRunAt)).toBe(planned + DAY);
    expect(f.task).toEqual(await api.read(id));
  });

  it('failing runs: RunFinished FAILED each time, then TaskChanged ERRORED when the streak reaches RUN_FAILURES_TO_ERROR (2 here)', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const id = await h.task(a.id);
    const first = ms((await api.read(id)).nextRunAt);
    const sub = await subscribe(h, a.key, { ids: [id] });
    ex.status(500, 'boom');

    h.clock.ms = first;
    await h.dispatcher!.tick();
    await h.dispatcher!.idle();
    narrow(await sub.next(), 'RunStarted');
    const f1 = narrow(await sub.next(), 'RunFinished');
    expect(f1.run).toMatchObject({ outcome: 'FAILED', httpStatus: 500 });
    expect(f1.task).toMatchObject({ status: 'ACTIVE', consecutiveFailures: 1, inProgress: false, version: 1 });

    h.clock.ms = first + DAY;
    await h.dispatcher!.tick();
    await h.dispatcher!.idle();
    const s2 = narrow(await sub.next(), 'RunStarted');
    const f2 = narrow(await sub.next(), 'RunFinished');
    expect(f2.run).toMatchObject({ id: s2.run.id, outcome: 'FAILED' });
    const errored = narrow(await sub.next(), 'TaskChanged');
    expect(errored.change).toBe('ERRORED');
    expect(errored.task).toMatchObject({
      id,
      status: 'ERROR',
      enabled: false,
      consecutiveFailures: 2,
      inProgress: false,
      version: 2,
      nextRunAt: null,
      lastRunAt: s2.run.startedAt,
    });
    // The run's own event already carries the task as it is after both changes.
    expect(f2.task).toEqual(errored.task);
    expect(errored.task).toEqual(await api.read(id));
  });

  it('SKIPPED times: RunFinished SKIPPED with OVERLAP or QUOTA_EXCEEDED, the schedule moved on', async () => {
    const busy = await h.account();
    const spent = await h.account({ quotaLimit: 1, quotaUsed: 1 });
    const busyId = await h.task(busy.id, { inProgress: true });
    const spentId = await h.task(spent.id);
    const planned = ms((await client(h, busy.key).read(busyId)).nextRunAt);
    expect(ms((await client(h, spent.key).read(spentId)).nextRunAt)).toBe(planned);
    const subBusy = await subscribe(h, busy.key);
    const subSpent = await subscribe(h, spent.key);

    h.clock.ms = planned + 10;
    expect(await h.dispatcher!.tick()).toMatchObject({ started: 0 });
    for (const [sub, id, reason, inProgress] of [
      [subBusy, busyId, 'OVERLAP', true],
      [subSpent, spentId, 'QUOTA_EXCEEDED', false],
    ] as const) {
      const f = narrow(await sub.next(), 'RunFinished');
      expect(f.run).toMatchObject({
        taskId: id,
        trigger: 'SCHEDULE',
        outcome: 'SKIPPED',
        skipReason: reason,
        startedAt: null,
        attempts: 0,
      });
      expect(ms(f.run.scheduledFor)).toBe(planned);
      expect(f.task).toMatchObject({ id, inProgress, runs: 0, lastRunAt: null, status: 'ACTIVE' });
      expect(ms(f.task.nextRunAt)).toBe(planned + DAY);
    }
  });

  it('a run whose dispatcher died in its last attempt: RunFinished TIMED_OUT when taken over', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const id = await h.task(a.id, { status: 'PAUSED', nextRunAt: null });
    const runId = await seedOrphanedRun(h, a.id, id, 1);
    const sub = await subscribe(h, a.key);

    expect(await h.dispatcher!.tick()).toMatchObject({ timedOut: 1 });
    const f = narrow(await sub.next(), 'RunFinished');
    expect(f.run).toMatchObject({ id: runId, outcome: 'TIMED_OUT', attempts: 1 });
    expect(f.task).toMatchObject({ id, inProgress: false, consecutiveFailures: 1 });
    expect(f.task).toEqual(await api.read(id));
  });

  it('an orphaned run abandoned by a deployment without executor: RunFinished FAILED', async () => {
    const a = await h.account();
    const id = await h.task(a.id, { status: 'PAUSED', nextRunAt: null });
    const runId = await seedOrphanedRun(h, a.id, id, 0);
    const sub = await subscribe(h, a.key);

    expect(await abandonOrphanedRuns(h.deps)).toBe(1);
    const f = narrow(await sub.next(), 'RunFinished');
    expect(f.run).toMatchObject({ id: runId, outcome: 'FAILED' });
    expect(f.run.error).toMatch(/no executor/);
    expect(f.task).toMatchObject({ id, inProgress: false });
  });
});

describe('ids', () => {
  it('limits the stream to those tasks', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const [watched, other] = [await api.create('watched'), await api.create('other')];
    const sub = await subscribe(h, a.key, { ids: [watched.id, 'not-a-task-of-mine'] });

    await api.update(other.id, { name: 'other 2' });
    await api.run(other.id);
    await api.update(watched.id, { name: 'watched 2' });
    await h.dispatcher!.idle();
    await api.delete(other.id);
    narrow(await api.deleteMany([other.id, watched.id]), 'DeleteTasksSuccess');

    expect(narrow(await sub.next(), 'TaskChanged')).toMatchObject({ change: 'UPDATED', task: { id: watched.id } });
    expect(await sub.next()).toEqual({ __typename: 'TaskDeleted', taskId: watched.id });
  });

  it('accepts 100 ids; 101 ids is a ValidationError (field ids), then the end', async () => {
    const a = await h.account();
    const ids = Array.from({ length: 101 }, (_, i) => `t-${i}`);
    const hundred = await subscribe(h, a.key, { ids: ids.slice(0, 100) });
    await until('100 ids admitted', () => h.deps.subscriptions.count(a.id) === 1);
    await hundred.cancel();
    await released(h, a.id);

    const refused = await refusedWith(await subscribe(h, a.key, { ids }), 'ValidationError');
    expect(refused).toMatchObject({ code: 'VALIDATION', field: 'ids' });
    expect(refused.message).toContain('101');
    expect(h.deps.subscriptions.count(a.id)).toBe(0);
    expect(h.deps.events.listenerCount(a.id)).toBe(0);
  });

  it('an impossible id (65 characters) is a ValidationError naming its index', async () => {
    const a = await h.account();
    const refused = await refusedWith(await subscribe(h, a.key, { ids: ['fine', 'x'.repeat(65)] }), 'ValidationError');
    expect(refused).toMatchObject({ code: 'VALIDATION', field: 'ids' });
    expect(refused.message).toContain('ids[1]');
    expect(h.deps.subscriptions.count(a.id)).toBe(0);
  });
});

describe('isolation', () => {
  it("two accounts changing tasks at once each hear all of their own events and none of the other's", async () => {
    const A = await h.account({ name: 'A' });
    const B = await h.account({ name: 'B' });
    // A task of each that the other tries to delete.
    const bait = { [A.id]: await h.task(A.id), [B.id]: await h.task(B.id) };
    const subA = await subscribe(h, A.key);
    const subB = await subscribe(h, B.key);

    type Expected = { kind: string; id: string };
    const script = async (me: typeof A, them: typeof A): Promise<Expected[]> => {
      const api = client(h, me.key);
      const expected: Expected[] = [];
      for (let round = 0; round < 3; round++) {
        const ts = [await api.create(`r${round} a`), await api.create(`r${round} b`), await api.create(`r${round} c`)];
        for (const t of ts) expected.push({ kind: 'CREATED', id: t.id });
        await api.update(ts[0]!.id, { name: `r${round} renamed` });
        expected.push({ kind: 'UPDATED', id: ts[0]!.id });
        await api.delete(ts[1]!.id);
        expected.push({ kind: 'TaskDeleted', id: ts[1]!.id });
        const res = narrow(await api.deleteMany([ts[2]!.id, bait[them.id]!, ts[0]!.id]), 'DeleteTasksSuccess');
        expect(res.results.map((r) => r.outcome.__typename)).toEqual(['TaskDeleted', 'NotFound', 'TaskDeleted']);
        expected.push({ kind: 'TaskDeleted', id: ts[2]!.id }, { kind: 'TaskDeleted', id: ts[0]!.id });
      }
      return expected;
    };
    const [expectedA, expectedB] = await Promise.all([script(A, B), script(B, A)]);

    const kindOf = (item: Item): Expected => {
      if (item.__typename === 'TaskDeleted') return { kind: 'TaskDeleted', id: item.taskId };
      const changed = narrow(item, 'TaskChanged');
      return { kind: changed.change, id: changed.task.id };
    };
    for (const [sub, expected, other] of [
      [subA, expectedA, expectedB],
      [subB, expectedB, expectedA],
    ] as const) {
      const got: Expected[] = [];
      for (let i = 0; i < expected.length; i++) got.push(kindOf(await sub.next()));
      expect(got).toEqual(expected);
      const foreign = new Set([...other.map((e) => e.id)]);
      expect(got.filter((e) => foreign.has(e.id))).toEqual([]);
    }
    // Nothing else came: the next event of each is its own marker.
    const markerA = await client(h, A.key).pause(bait[A.id]!);
    const markerB = await client(h, B.key).pause(bait[B.id]!);
    expect(narrow(await subA.next(), 'TaskChanged').task.id).toBe(markerA.id);
    expect(narrow(await subB.next(), 'TaskChanged').task.id).toBe(markerB.id);
    // Neither bait was deleted by the other account.
    expect(await h.db.read.task.count({ where: { id: { in: Object.values(bait) } } })).toBe(2);
  });
});

describe('refusals: one typed item, then the end', () => {
  let hr: Harness;
  beforeAll(async () => {
    hr = await createHarness({ limits: { accountMax: 4, windowSeconds: 60 } });
  });
  afterEach(() => {
    expect(hr.logLines.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await closeAll();
    await hr?.close();
  });

  it('no key, an unknown key: Unauthorized', async () => {
    const none = await refusedWith(await subscribe(hr, undefined), 'Unauthorized');
    expect(none.code).toBe('UNAUTHORIZED');
    const unknown = await refusedWith(await subscribe(hr, 'tsk_not-a-key-of-anyone'), 'Unauthorized');
    expect(unknown.code).toBe('UNAUTHORIZED');
  });

  it('an unpaid invoice, a plan without scheduled tasks: PaymentRequired with the reason', async () => {
    const unpaid = await hr.account({ billing: 'UNPAID' });
    const free = await hr.account({ plan: 'FREE' });
    expect(await refusedWith(await subscribe(hr, unpaid.key), 'PaymentRequired')).toMatchObject({
      code: 'PAYMENT_REQUIRED',
      reason: 'UNPAID_INVOICE',
    });
    expect(await refusedWith(await subscribe(hr, free.key), 'PaymentRequired')).toMatchObject({
      code: 'PAYMENT_REQUIRED',
      reason: 'PLAN_UPGRADE_REQUIRED',
    });
    for (const acc of [unpaid, free]) {
      expect(hr.deps.subscriptions.count(acc.id)).toBe(0);
      expect(hr.deps.events.listenerCount(acc.id)).toBe(0);
    }
  });

  it('subscribing counts one operation of the rate limit, events count nothing; used up: RateLimited ACCOUNT', async () => {
    const a = await hr.account();
    const api = client(hr, a.key);
    const ids = await hr.tasks(
      a.id,
      Array.from({ length: 5 }, () => ({})),
    );
    expect(await api.rateLimit()).toMatchObject({ limit: 4, remaining: 4 });

    const res = await sseFetch(hr, a.key);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-remaining')).toBe('3');
    const first = new TaskEventReader(res);
    open.add(first);
    expect((await api.rateLimit()).remaining).toBe(3);

    // One operation, five events.
    narrow(await api.deleteMany(ids), 'DeleteTasksSuccess');
    for (const id of ids) expect(await first.next()).toEqual({ __typename: 'TaskDeleted', taskId: id });
    expect((await api.rateLimit()).remaining).toBe(2);

    await subscribe(hr, a.key);
    await subscribe(hr, a.key);
    expect((await api.rateLimit()).remaining).toBe(0);
    const limited = await refusedWith(await subscribe(hr, a.key), 'RateLimited');
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', scope: 'ACCOUNT', limit: 4, windowSeconds: 60 });
    expect(limited.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(60);
    // The refused one holds no slot; the three admitted ones do.
    expect(hr.deps.subscriptions.count(a.id)).toBe(3);
    expect(hr.deps.events.listenerCount(a.id)).toBe(3);

    // Once the window has passed, subscribing is admitted again.
    hr.clock.advance(61);
    await subscribe(hr, a.key);
    expect(hr.deps.subscriptions.count(a.id)).toBe(4);
    await closeAll();
    await released(hr, a.id);
  });
});

describe('the cap on open subscriptions per account (default 20)', () => {
  it('refuses the 21st with RateLimited (windowSeconds 0, retry after 1 s); a slot freed by a client admits a new one', async () => {
    const a = await h.account();
    const b = await h.account();
    const api = client(h, a.key);
    const subs: TaskEventReader[] = [];
    for (let i = 0; i < 20; i++) subs.push(await subscribe(h, a.key));
    expect(h.deps.subscriptions.count(a.id)).toBe(20);
    expect(h.deps.events.listenerCount(a.id)).toBe(20);

    const refused = await refusedWith(await subscribe(h, a.key), 'RateLimited');
    expect(refused).toMatchObject({
      code: 'RATE_LIMITED',
      scope: 'ACCOUNT',
      limit: 20,
      windowSeconds: 0,
      retryAfterSeconds: 1,
    });
    expect(h.deps.subscriptions.count(a.id)).toBe(20);
    // Per account: another account is not affected.
    await subscribe(h, b.key);
    expect(h.deps.subscriptions.count(b.id)).toBe(1);

    await subs[7]!.cancel();
    await until('a slot freed', () => h.deps.subscriptions.count(a.id) === 19);
    expect(h.deps.events.listenerCount(a.id)).toBe(19);
    const newcomer = await subscribe(h, a.key);
    expect(h.deps.subscriptions.count(a.id)).toBe(20);

    // Every open one hears the next change, the newcomer included.
    const created = await api.create();
    const all = [...subs.filter((_, i) => i !== 7), newcomer];
    for (const sub of all) {
      expect(narrow(await sub.next(), 'TaskChanged')).toMatchObject({ change: 'CREATED', task: { id: created.id } });
    }
  });
});

describe('re-checks while open (every 0.2 s here)', () => {
  let hv: Harness;
  beforeAll(async () => {
    hv = await createHarness({ limits: { subscriptionRecheckSeconds: 0.2 } });
  });
  afterEach(() => {
    expect(hv.logLines.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await closeAll();
    await hv?.close();
  });

  const keyLookups = () => hv.queries.filter((sql) => /keyHash/.test(sql)).length;

  it('a revoked key ends its streams with Unauthorized within a second; another key of the account goes on', async () => {
    const a = await hv.account();
    const second = await hv.db.transaction((tx) => insertApiKey(tx, a.id));
    const api = client(hv, second);
    const sub = await subscribe(hv, a.key);
    const survivor = await subscribe(hv, second);
    const remaining = (await api.rateLimit()).remaining;

    // Several re-checks pass with the key valid: the streams stay open and deliver.
    const lookups = keyLookups();
    await until('three re-checks', () => keyLookups() >= lookups + 6);
    const created = await api.create();
    expect(narrow(await sub.next(), 'TaskChanged').task.id).toBe(created.id);
    expect(narrow(await survivor.next(), 'TaskChanged').task.id).toBe(created.id);
    // Re-checks count nothing: of all that happened since, only the createTask counted (viewer never does).
    expect((await api.rateLimit()).remaining).toBe(remaining - 1);

    const revokedAt = Date.now();
    expect(await hv.db.transaction((tx) => revokeApiKey(tx, a.key, hv.clock.now()))).toBe(true);
    const ended = await refusedWith(sub, 'Unauthorized', 1_500);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
    expect(ended.code).toBe('UNAUTHORIZED');
    await until('one stream left', () => hv.deps.subscriptions.count(a.id) === 1);
    expect(hv.deps.events.listenerCount(a.id)).toBe(1);

    await api.pause(created.id);
    expect(narrow(await survivor.next(), 'TaskChanged')).toMatchObject({ change: 'PAUSED' });
  });

  it('an unpaid invoice ends the stream with PaymentRequired UNPAID_INVOICE', async () => {
    const a = await hv.account();
    const sub = await subscribe(hv, a.key);
    await hv.db.transaction((tx) => tx.account.update({ where: { id: a.id }, data: { billing: 'UNPAID' } }));
    const ended = await refusedWith(sub, 'PaymentRequired', 1_500);
    expect(ended.reason).toBe('UNPAID_INVOICE');
    await released(hv, a.id);
  });

  it('a downgrade ends the stream with PaymentRequired PLAN_UPGRADE_REQUIRED', async () => {
    const a = await hv.account();
    const sub = await subscribe(hv, a.key);
    await hv.db.transaction((tx) => tx.account.update({ where: { id: a.id }, data: { plan: 'GROWTH' } }));
    expect((await refusedWith(sub, 'PaymentRequired', 1_500)).reason).toBe('PLAN_UPGRADE_REQUIRED');
    await released(hv, a.id);
  });
});

describe('a client that leaves', () => {
  it('before any event releases its listener and its slot', async () => {
    const a = await h.account();
    const sub = await subscribe(h, a.key);
    expect(h.deps.events.listenerCount(a.id)).toBe(1);
    expect(h.deps.subscriptions.count(a.id)).toBe(1);
    await sub.cancel();
    await released(h, a.id);
    // Changes after it are published to nobody, and fail nothing.
    await client(h, a.key).create();
  });

  it('after events releases them too, while the other subscriptions go on', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const leaving = await subscribe(h, a.key);
    const staying = await subscribe(h, a.key);
    const t1 = await api.create();
    narrow(await leaving.next(), 'TaskChanged');
    narrow(await staying.next(), 'TaskChanged');
    // Queued but unread when it leaves.
    await api.pause(t1.id);
    await leaving.cancel();
    await until('one left', () => h.deps.subscriptions.count(a.id) === 1 && h.deps.events.listenerCount(a.id) === 1);
    await api.resume(t1.id);
    expect(narrow(await staying.next(), 'TaskChanged').change).toBe('PAUSED');
    expect(narrow(await staying.next(), 'TaskChanged').change).toBe('RESUMED');
    await staying.cancel();
    await released(h, a.id);
  });

  it('that stops reading is cut off after 1,000 queued events: the stream ends, the queue is delivered, then complete', async () => {
    const a = await h.account({ quotaLimit: 100_000 });
    const ids = await h.tasks(
      a.id,
      // PAUSED with no next run: quick to seed (no schedule to plan), and never claimed.
      Array.from({ length: 1_100 }, (_, i) => ({
        id: `t-slow-${String(i).padStart(4, '0')}`,
        status: 'PAUSED' as const,
        nextRunAt: null,
      })),
    );
    // A client that reads nothing (not even the first ping): nothing is pulled from the stream.
    const res = await sseFetch(h, a.key);
    expect(res.status).toBe(200);
    expect(h.deps.subscriptions.count(a.id)).toBe(1);
    const api = client(h, a.key);
    narrow(await api.deleteMany(ids.slice(0, 1_000)), 'DeleteTasksSuccess');
    // 1,000 queued: still open.
    expect(h.deps.subscriptions.count(a.id)).toBe(1);
    narrow(await api.deleteMany(ids.slice(1_000)), 'DeleteTasksSuccess');
    // The 1,001st ended it on the server, while the client still had not read.
    await released(h, a.id);

    const sub = new TaskEventReader(res);
    open.add(sub);
    const got: string[] = [];
    for (;;) {
      const m = await sub.message();
      if (m.event === 'complete') break;
      expect(m.event).toBe('next');
      got.push((JSON.parse(m.data) as { data: { taskEvents: { taskId: string } } }).data.taskEvents.taskId);
    }
    await sub.ended();
    // What was queued, in order; nothing after it.
    expect(got).toEqual(ids.slice(0, 1_000));
  });
});

describe('masking', () => {
  let hm: Harness;
  beforeAll(async () => {
    hm = await createHarness();
  });
  afterAll(async () => {
    await closeAll();
    await hm?.close();
  });

  /** Renames a table (a real failure of our database, not a mock); returns the undo. */
  async function hideTable(table: string): Promise<() => Promise<void>> {
    const schema = new URL(hm.url).searchParams.get('schema');
    const name = (t: string) => (schema ? `"${schema}"."${t}"` : `"${t}"`);
    await hm.db.transaction((tx) => tx.$executeRawUnsafe(`ALTER TABLE ${name(table)} RENAME TO "${table}_hidden"`));
    return async () => {
      await hm.db.transaction((tx) =>
        tx.$executeRawUnsafe(`ALTER TABLE ${name(`${table}_hidden`)} RENAME TO "${table}"`),
      );
    };
  }

  const leaks = /TaskRun_hidden|SELECT|no such table|does not exist|prisma|\.ts:\d|\bat \w+ \(|stack/i;

  it('an unexpected failure while resolving an event reaches the client as "Unexpected error." only; the stream goes on', async () => {
    const a = await hm.account();
    const api = client(hm, a.key);
    const id = await hm.task(a.id);
    await hm.db.transaction((tx) => tx.task.update({ where: { id }, data: { lastRunId: 'r-somewhere' } }));
    const sub = await subscribe(
      hm,
      a.key,
      {},
      {
        query:
          'subscription { taskEvents { __typename ... on TaskChanged { change task { id lastRun { id outcome } } } ... on Error { code message } } }',
      },
    );
    const restore = await hideTable('TaskRun');
    try {
      await api.pause(id);
      const { payload, text } = await sub.raw();
      expect(payload.errors).toEqual([
        {
          message: 'Unexpected error.',
          locations: expect.any(Array),
          path: ['taskEvents', 'task', 'lastRun'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ]);
      expect(text).not.toMatch(leaks);
      expect(payload.data).toMatchObject({ taskEvents: { change: 'PAUSED', task: { id, lastRun: null } } });
    } finally {
      await restore();
    }
    // Logged in full for the operator.
    expect(hm.logLines.join('\n')).toMatch(/TaskRun/);
    hm.logLines.length = 0;

    await api.resume(id);
    expect(await sub.next()).toEqual({
      __typename: 'TaskChanged',
      change: 'RESUMED',
      task: { id, lastRun: null },
    });
  });

  it('an unexpected failure while subscribing is masked too', async () => {
    const a = await hm.account();
    const restore = await hideTable('ApiKey');
    let text: string;
    let status: number;
    try {
      const res = await sseFetch(hm, a.key);
      status = res.status;
      text = await res.text();
    } finally {
      await restore();
    }
    expect(text).toContain('Unexpected error.');
    expect(text).not.toMatch(/ApiKey_hidden|SELECT|no such table|does not exist|prisma|\.ts:\d|\bat \w+ \(/i);
    // The stream form holds for an unexpected failure: one masked error, then complete (HTTP 500).
    expect(status).toBe(500);
    expect(text).toMatch(/^:\n\nevent: next\ndata: \{"errors":\[\{"message":"Unexpected error\."/);
    expect(text).toMatch(/event: complete\n/);
    expect(hm.logLines.join('\n')).toMatch(/ApiKey/);
    hm.logLines.length = 0;
    expect(hm.deps.subscriptions.count(a.id)).toBe(0);
    expect(hm.deps.events.listenerCount(a.id)).toBe(0);
  });
});

describe('transport', () => {
  it('a subscription asked for without Accept: text/event-stream is refused with 406 and leaves nothing open', async () => {
    const a = await h.account();
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      const res = await sseFetch(h, a.key, {}, { headers: { accept } });
      expect({ accept, status: res.status }).toEqual({ accept, status: 406 });
      // Says how to ask instead (yoga's own 406 has no body).
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0]!.extensions.code).toBe('NOT_ACCEPTABLE');
      expect(body.errors[0]!.message).toMatch(/Accept: text\/event-stream.*WebSocket/);
    }
    // A refused request must not hold a listener or a place under the cap, nor
    // count against the rate limit. (yoga executes the subscription before it
    // looks for a result processor, and its 406 never calls return() on the
    // stream: the guard refuses it before the subscription runs.)
    await released(h, a.id);
    expect(h.deps.subscriptions.count(a.id)).toBe(0);
  });

  it('Accept: */* gets the event stream', async () => {
    const a = await h.account();
    const sub = await subscribe(h, a.key, {}, { headers: { accept: '*/*' } });
    const created = await client(h, a.key).create();
    expect(narrow(await sub.next(), 'TaskChanged').task.id).toBe(created.id);
    await sub.cancel();
    await released(h, a.id);
  });

  it('GET with Accept: text/event-stream subscribes too', async () => {
    const a = await h.account();
    const api = client(h, a.key);
    const url = `http://localhost/graphql?query=${encodeURIComponent(SUBSCRIPTION)}`;
    const res = await h.app.fetch(url, { headers: { accept: 'text/event-stream', 'x-access-key': a.key } });
    expect(res.status).toBe(200);
    const sub = new TaskEventReader(res);
    open.add(sub);
    const created = await api.create();
    expect(narrow(await sub.next(), 'TaskChanged').task).toEqual(created);
  });

  it('a subscription document that fails validation: its errors as the one event, then complete; nothing opened', async () => {
    const a = await h.account();
    const res = await sseFetch(h, a.key, {}, { query: 'subscription { taskEvents { __typename nope } }' });
    // yoga answers a stream (200) whose one event carries the validation error.
    expect(res.status).toBe(200);
    const sub = new TaskEventReader(res);
    open.add(sub);
    const { payload } = await sub.raw();
    expect(payload).toEqual({
      errors: [
        {
          message: 'Cannot query field "nope" on type "TaskEvent".',
          locations: expect.any(Array),
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
        },
      ],
    });
    await sub.complete();
    expect(h.deps.subscriptions.count(a.id)).toBe(0);
  });
});

/** A memory bus whose subscribe can be held, as a Redis SUBSCRIBE waits on its round trip. */
class SlowBus extends MemoryEventBus {
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  /** Subscribes waiting at the gate. */
  waiting = 0;
  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }
  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }
  override async subscribe(accountId: string, listener: TaskEventListener): Promise<() => void> {
    if (this.#gate) {
      this.waiting++;
      await this.#gate;
      this.waiting--;
    }
    return super.subscribe(accountId, listener);
  }
}

describe('over a real HTTP connection', () => {
  let hh: Harness;
  let bus: SlowBus;
  let server: Listening;
  /** Responses whose connection closed, as the server saw them. */
  let closed = 0;
  beforeAll(async () => {
    bus = new SlowBus();
    hh = await createHarness({ events: bus });
    server = await listen((req, res) => {
      res.on('close', () => closed++);
      hh.app(req, res);
    });
  });
  afterAll(async () => {
    bus?.release();
    await closeAll();
    await server?.close();
    await hh?.close();
  });

  function post(key: string, signal: AbortSignal): Promise<Response> {
    return fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-access-key': key },
      body: JSON.stringify({ query: SUBSCRIPTION }),
      signal,
    });
  }

  it('delivers events, and a client that disconnects (before or after events) releases its subscription', async () => {
    const a = await hh.account();
    const api = client(hh, a.key);
    const early = new AbortController();
    const late = new AbortController();
    const silent = await post(a.key, early.signal);
    const reading = new TaskEventReader(await post(a.key, late.signal));
    expect(silent.status).toBe(200);
    expect(hh.deps.subscriptions.count(a.id)).toBe(2);

    const created = await api.create();
    expect(narrow(await reading.next(), 'TaskChanged').task.id).toBe(created.id);
    early.abort(); // never read anything
    late.abort();
    await released(hh, a.id);
  });

  it('a client that disconnects while its subscription is being set up leaves nothing open', async () => {
    const a = await hh.account();
    const leaving = new AbortController();
    const before = closed;
    bus.hold();
    const answer = post(a.key, leaving.signal).catch((e: Error) => e);
    try {
      await until('the subscribe waiting on the bus', () => bus.waiting === 1);
      leaving.abort();
      expect(await answer).toBeInstanceOf(Error);
      await until('the server seeing the connection close', () => closed > before);
    } finally {
      bus.release();
    }
    // The subscription went live after its client had gone: it must not stay.
    // (@whatwg-node/server does not send, read or cancel a response whose
    // socket has closed, so nothing ever calls return() on this stream; the
    // request's AbortSignal did fire.)
    await until('the late subscription registered', () => bus.waiting === 0);
    await released(hh, a.id);
  });
});
