import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TaskDocument,
  TasksDocument,
  type TasksQueryVariables,
  ViewerDocument,
} from '../src/generated/client/graphql.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 10_000 } });
});
afterAll(() => h.close());

const readTask = async (id: string, key?: string) => (await h.gql(TaskDocument, { id }, key)).task;
const readTasks = async (vars: TasksQueryVariables, key: string) => (await h.gql(TasksDocument, vars, key)).tasks;
const ids = (connection: { edges: { node: { id: string } }[] }) => connection.edges.map((e) => e.node.id);

describe('Query.task', () => {
  it('returns the Task directly, with every field', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id, { id: '5650820808835072', name: 'task screenshot' });
    const task = narrow(await readTask(taskId, key), 'Task');
    expect(task).toMatchObject({
      id: '5650820808835072',
      name: 'task screenshot',
      api: 'SCREENSHOT',
      query: 'url=https%3A%2F%2Fexample.com',
      frequency: 'EVERY_DAY',
      crontab: '0 0 * * *',
      timezone: 'Etc/UTC',
      enabled: true,
      status: 'ACTIVE',
      inProgress: false,
      lastRunAt: null,
      runs: 0,
    });
    expect(new Date(task.createdAt).toISOString()).toBe(task.createdAt);
    // The next midnight after the (test) clock's now.
    expect(task.nextRunAt).toBe('2026-06-16T00:00:00.000Z');
  });

  it('is NotFound for an unknown id', async () => {
    const { key } = await h.account();
    expect(await readTask('does-not-exist', key)).toEqual({
      __typename: 'NotFound',
      code: 'NOT_FOUND',
      message: 'Task "does-not-exist" was not found.',
    });
  });

  it("is NotFound, with the same message, for another account's task", async () => {
    const owner = await h.account();
    const other = await h.account({ name: 'other' });
    const taskId = await h.task(owner.id, { id: 'owned-by-acme' });
    expect(narrow(await readTask(taskId, other.key), 'NotFound').message).toBe('Task "owned-by-acme" was not found.');
    // ...while the owner sees it.
    narrow(await readTask(taskId, owner.key), 'Task');
  });

  it('is enabled, with a nextRunAt, exactly when ACTIVE', async () => {
    const { id, key } = await h.account();
    for (const status of ['PAUSED', 'CANCELLED', 'ERROR', 'CREATE_PENDING', 'NON_EXISTING'] as const) {
      const other = narrow(await readTask(await h.task(id, { status }), key), 'Task');
      expect(other, status).toMatchObject({ status, enabled: false, nextRunAt: null });
    }
    const active = narrow(await readTask(await h.task(id), key), 'Task');
    expect(active).toMatchObject({ status: 'ACTIVE', enabled: true, nextRunAt: '2026-06-16T00:00:00.000Z' });
  });
});

describe('Query.tasks', () => {
  it("pages through the caller's tasks newest first with cursors", async () => {
    const { id, key } = await h.account();
    const created = await h.tasks(
      id,
      Array.from({ length: 7 }, (_, i) => ({ id: `page-${i}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)) })),
    );
    const other = await h.account({ name: 'noise' });
    await h.tasks(other.id, [{}, {}]);

    const seen: string[] = [];
    let after: string | null | undefined = null;
    let pages = 0;
    for (;;) {
      const answer = await readTasks({ first: 3, after }, key);
      const page = narrow(answer, 'TaskConnection');
      expect(page.totalCount).toBe(7);
      expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...ids(page));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
  });

  it('orders tasks created in the same millisecond by id, without skipping any', async () => {
    const { id, key } = await h.account();
    const at = new Date(Date.UTC(2026, 0, 2));
    await h.tasks(
      id,
      ['a', 'b', 'c', 'd'].map((s) => ({ id: `same-${s}`, createdAt: at })),
    );
    const first = narrow(await readTasks({ first: 2 }, key), 'TaskConnection');
    const second = narrow(await readTasks({ first: 2, after: first.pageInfo.endCursor }, key), 'TaskConnection');
    expect([...ids(first), ...ids(second)]).toEqual(['same-d', 'same-c', 'same-b', 'same-a']);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  it('filters by status, api and enabled', async () => {
    const { id, key } = await h.account();
    await h.tasks(id, [
      { id: 'f-active-shot', status: 'ACTIVE', api: 'SCREENSHOT' },
      { id: 'f-active-pdf', status: 'ACTIVE', api: 'PDF' },
      { id: 'f-paused-pdf', status: 'PAUSED', api: 'PDF' },
    ]);
    const filtered = async (filter: TasksQueryVariables['filter']) =>
      ids(narrow(await readTasks({ filter }, key), 'TaskConnection')).sort();
    expect(await filtered({ status: 'ACTIVE' })).toEqual(['f-active-pdf', 'f-active-shot']);
    expect(await filtered({ api: 'PDF' })).toEqual(['f-active-pdf', 'f-paused-pdf']);
    expect(await filtered({ api: 'PDF', enabled: true })).toEqual(['f-active-pdf']);
    expect(await filtered({ enabled: false })).toEqual(['f-paused-pdf']);
    // A status the other condition excludes: nothing.
    expect(await filtered({ status: 'PAUSED', enabled: true })).toEqual([]);
    expect(
      narrow(await readTasks({ filter: { status: 'PAUSED', enabled: true } }, key), 'TaskConnection').totalCount,
    ).toBe(0);
    expect(narrow(await readTasks({ filter: { enabled: false } }, key), 'TaskConnection').totalCount).toBe(1);
    expect(narrow(await readTasks({ filter: { status: 'ERROR' } }, key), 'TaskConnection').totalCount).toBe(0);
  });

  it('answers ValidationError for a page size out of range or a forged cursor', async () => {
    const { key } = await h.account();
    expect(await readTasks({ first: 101 }, key)).toMatchObject({
      __typename: 'ValidationError',
      code: 'VALIDATION',
      field: 'first',
    });
    expect(narrow(await readTasks({ first: -1 }, key), 'ValidationError').field).toBe('first');
    expect(narrow(await readTasks({ after: 'not-a-cursor' }, key), 'ValidationError').field).toBe('after');
  });

  it('answers ValidationError for a forged cursor at a time no database stores (years before 1, after 9999)', async () => {
    const { id, key } = await h.account();
    await h.task(id);
    const forged = (ms: number) => Buffer.from(JSON.stringify([ms, 'x'])).toString('base64url');
    // Before year 1 PostgreSQL refused the date (a masked 500); from year 10000
    // SQLite's ISO text sorted before every real time (an empty page).
    for (const ms of [-62_135_596_800_001, -8.64e15, 253_402_300_800_000, 8.64e15]) {
      expect(narrow(await readTasks({ after: forged(ms) }, key), 'ValidationError').field).toBe('after');
    }
    for (const ms of [-62_135_596_800_000, 253_402_300_799_999]) {
      expect((await readTasks({ after: forged(ms) }, key))?.__typename).toBe('TaskConnection');
    }
  });
});

describe('Query.viewer', () => {
  it('shows plan, billing, quota and rate-limit state, without counting itself', async () => {
    const resetAt = new Date(h.clock.now() + 86_400_000);
    const { id, key } = await h.account({
      name: 'viewer-co',
      plan: 'SCALE',
      quotaLimit: 50,
      quotaUsed: 8,
      quotaResetAt: resetAt,
    });
    const { viewer } = await h.gql(ViewerDocument, {}, key);
    expect(viewer).toEqual({
      __typename: 'Account',
      id,
      name: 'viewer-co',
      plan: 'SCALE',
      billing: 'OK',
      quota: { limit: 50, used: 8, remaining: 42, resetAt: resetAt.toISOString() },
      rateLimit: {
        limit: 10_000,
        remaining: 10_000,
        windowSeconds: 60,
        resetAt: null,
        nextAdmissionAt: new Date(h.clock.now()).toISOString(),
      },
    });
    await h.gql(TaskDocument, { id: 'any' }, key);
    expect(narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account').rateLimit).toMatchObject({
      remaining: 9_999,
      resetAt: new Date(h.clock.now() + 60_000).toISOString(),
    });
  });

  it('works on any plan and billing state, so a client can show them', async () => {
    const { key } = await h.account({ plan: 'FREE', billing: 'UNPAID' });
    expect(narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account')).toMatchObject({
      plan: 'FREE',
      billing: 'UNPAID',
    });
  });

  it('reports a quota period that has ended as reset', async () => {
    const { key } = await h.account({ quotaLimit: 10, quotaUsed: 10, quotaResetAt: new Date(h.clock.now() - 1000) });
    const { quota } = narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account');
    expect(quota).toMatchObject({ used: 0, remaining: 10 });
    expect(new Date(quota.resetAt!).getTime()).toBeGreaterThan(h.clock.now());
  });
});
