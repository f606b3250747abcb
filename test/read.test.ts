import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskDoc, TasksDoc, ViewerDoc } from './helpers/documents.js';
import { createHarness, type Harness } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 10_000 } });
});
afterAll(() => h.close());

describe('Query.task', () => {
  it('returns the Task directly, with every field', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id, { id: '5650820808835072', name: 'task screenshot' });
    const { task } = await h.gql(TaskDoc, { id: taskId }, key);
    expect(task).toMatchObject({
      __typename: 'Task',
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
    expect(new Date(task.nextRunAt).getTime()).toBeGreaterThan(Date.now());
  });

  it('is NotFound for an unknown id', async () => {
    const { key } = await h.account();
    const { task } = await h.gql(TaskDoc, { id: 'does-not-exist' }, key);
    expect(task).toEqual(
      expect.objectContaining({
        __typename: 'NotFound',
        code: 'NOT_FOUND',
        message: 'Task "does-not-exist" was not found.',
      }),
    );
  });

  it("is NotFound, with the same message, for another account's task", async () => {
    const owner = await h.account();
    const other = await h.account({ name: 'other' });
    const taskId = await h.task(owner.id, { id: 'owned-by-acme' });
    const { task } = await h.gql(TaskDoc, { id: taskId }, other.key);
    expect(task).toMatchObject({ __typename: 'NotFound', message: 'Task "owned-by-acme" was not found.' });
    // ...while the owner sees it.
    expect((await h.gql(TaskDoc, { id: taskId }, owner.key)).task.__typename).toBe('Task');
  });

  it('has no nextRunAt unless enabled and ACTIVE', async () => {
    const { id, key } = await h.account();
    const paused = await h.task(id, { status: 'PAUSED', enabled: false });
    expect((await h.gql(TaskDoc, { id: paused }, key)).task.nextRunAt).toBeNull();
  });
});

describe('Query.tasks', () => {
  it("pages through the caller's tasks newest first with cursors", async () => {
    const { id, key } = await h.account();
    const ids = await h.tasks(
      id,
      Array.from({ length: 7 }, (_, i) => ({ id: `page-${i}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)) })),
    );
    const other = await h.account({ name: 'noise' });
    await h.tasks(other.id, [{}, {}]);

    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { tasks }: { tasks: any } = await h.gql(TasksDoc, { first: 3, after }, key);
      expect(tasks.__typename).toBe('TaskConnection');
      expect(tasks.totalCount).toBe(7);
      expect(tasks.pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...tasks.edges.map((e: { node: { id: string } }) => e.node.id));
      pages++;
      if (!tasks.pageInfo.hasNextPage) break;
      after = tasks.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it('orders tasks created in the same millisecond by id, without skipping any', async () => {
    const { id, key } = await h.account();
    const at = new Date(Date.UTC(2026, 0, 2));
    await h.tasks(
      id,
      ['a', 'b', 'c', 'd'].map((s) => ({ id: `same-${s}`, createdAt: at })),
    );
    const first = (await h.gql(TasksDoc, { first: 2 }, key)).tasks;
    const second = (await h.gql(TasksDoc, { first: 2, after: first.pageInfo.endCursor }, key)).tasks;
    expect([...first.edges, ...second.edges].map((e: { node: { id: string } }) => e.node.id)).toEqual([
      'same-d',
      'same-c',
      'same-b',
      'same-a',
    ]);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  it('filters by status, api and enabled', async () => {
    const { id, key } = await h.account();
    await h.tasks(id, [
      { id: 'f-active-shot', status: 'ACTIVE', api: 'SCREENSHOT' },
      { id: 'f-active-pdf', status: 'ACTIVE', api: 'PDF' },
      { id: 'f-paused-pdf', status: 'PAUSED', api: 'PDF', enabled: false },
    ]);
    const ids = async (filter: object) =>
      (await h.gql(TasksDoc, { filter }, key)).tasks.edges.map((e: { node: { id: string } }) => e.node.id).sort();
    expect(await ids({ status: 'ACTIVE' })).toEqual(['f-active-pdf', 'f-active-shot']);
    expect(await ids({ api: 'PDF' })).toEqual(['f-active-pdf', 'f-paused-pdf']);
    expect(await ids({ api: 'PDF', enabled: true })).toEqual(['f-active-pdf']);
    expect((await h.gql(TasksDoc, { filter: { status: 'ERROR' } }, key)).tasks.totalCount).toBe(0);
  });

  it('answers ValidationError for a page size out of range or a forged cursor', async () => {
    const { key } = await h.account();
    expect((await h.gql(TasksDoc, { first: 101 }, key)).tasks).toMatchObject({
      __typename: 'ValidationError',
      code: 'VALIDATION',
      field: 'first',
    });
    expect((await h.gql(TasksDoc, { first: -1 }, key)).tasks).toMatchObject({ field: 'first' });
    expect((await h.gql(TasksDoc, { after: 'not-a-cursor' }, key)).tasks).toMatchObject({
      __typename: 'ValidationError',
      field: 'after',
    });
  });
});

describe('Query.viewer', () => {
  it('shows plan, billing, quota and rate-limit state, this request included', async () => {
    const resetAt = new Date(h.clock.now() + 86_400_000);
    const { id, key } = await h.account({
      name: 'viewer-co',
      plan: 'SCALE',
      quotaLimit: 50,
      quotaUsed: 8,
      quotaResetAt: resetAt,
    });
    const { viewer } = await h.gql(ViewerDoc, {}, key);
    expect(viewer).toEqual({
      __typename: 'Account',
      id,
      name: 'viewer-co',
      plan: 'SCALE',
      billing: 'OK',
      quota: { limit: 50, used: 8, remaining: 42, resetAt: resetAt.toISOString() },
      rateLimit: {
        limit: 10_000,
        remaining: 9_999,
        windowSeconds: 60,
        resetAt: new Date(h.clock.now() + 60_000).toISOString(),
        nextAdmissionAt: new Date(h.clock.now()).toISOString(),
      },
    });
  });

  it('works on any plan and billing state, so a client can show them', async () => {
    const { key } = await h.account({ plan: 'FREE', billing: 'UNPAID' });
    expect((await h.gql(ViewerDoc, {}, key)).viewer).toMatchObject({
      __typename: 'Account',
      plan: 'FREE',
      billing: 'UNPAID',
    });
  });

  it('reports a quota period that has ended as reset', async () => {
    const { key } = await h.account({ quotaLimit: 10, quotaUsed: 10, quotaResetAt: new Date(h.clock.now() - 1000) });
    const { viewer } = await h.gql(ViewerDoc, {}, key);
    expect(viewer.quota).toMatchObject({ used: 0, remaining: 10 });
    expect(new Date(viewer.quota.resetAt).getTime()).toBeGreaterThan(h.clock.now());
  });
});
