import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateTaskDocument,
  DeleteTaskDocument,
  TaskDocument,
  TasksDocument,
  ViewerDocument,
} from '../src/generated/client/graphql.js';
import { nextPeriodEnd } from '../src/services/quota.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 100_000 } });
});
afterAll(() => h.close());

describe('quota', () => {
  it('is never consumed by reads', async () => {
    const { id, key } = await h.account({ quotaLimit: 1 });
    const taskId = await h.task(id);
    for (let i = 0; i < 5; i++) {
      await h.gql(TaskDocument, { id: taskId }, key);
      await h.gql(TasksDocument, {}, key);
      await h.gql(ViewerDocument, {}, key);
    }
    expect(await h.quotaUsed(id)).toBe(0);
  });

  it('lets reads continue when it is used up', async () => {
    const { id, key } = await h.account({ quotaLimit: 3, quotaUsed: 3 });
    const taskId = await h.task(id);
    narrow((await h.gql(TaskDocument, { id: taskId }, key)).task, 'Task');
  });

  it('starts a new period at quotaResetAt: the first change after it resets the count', async () => {
    const end = new Date(h.clock.now() + 10_000);
    const { id, key } = await h.account({ quotaLimit: 2, quotaUsed: 2, quotaResetAt: end });
    const [a, b, c] = (await h.tasks(id, [{}, {}, {}])) as [string, string, string];
    narrow((await h.gql(DeleteTaskDocument, { id: a }, key)).deleteTask, 'QuotaExceeded');
    h.clock.advance(11);
    narrow((await h.gql(DeleteTaskDocument, { id: a }, key)).deleteTask, 'DeleteTaskSuccess');
    const account = await h.db.read.account.findUniqueOrThrow({ where: { id } });
    expect(account.quotaUsed).toBe(1);
    expect(account.quotaResetAt).toEqual(nextPeriodEnd(end, h.clock.now()));
    expect(account.quotaResetAt!.getUTCMonth()).toBe((end.getUTCMonth() + 1) % 12);
    narrow((await h.gql(DeleteTaskDocument, { id: b }, key)).deleteTask, 'DeleteTaskSuccess');
    expect((await h.gql(DeleteTaskDocument, { id: c }, key)).deleteTask).toMatchObject({
      __typename: 'QuotaExceeded',
      used: 2,
    });
  });

  it('is consumed by createTask and refunded when creation fails validation', async () => {
    const { id, key } = await h.account({ quotaLimit: 1 });
    const input = { name: 'x', api: 'PDF', query: 'url=x', frequency: 'CUSTOM', crontab: 'bad' } as const;
    narrow((await h.gql(CreateTaskDocument, { input }, key)).createTask, 'ValidationError');
    expect(await h.quotaUsed(id)).toBe(0);
    const ok = { ...input, crontab: '0 * * * *' };
    narrow((await h.gql(CreateTaskDocument, { input: ok }, key)).createTask, 'CreateTaskSuccess');
    expect((await h.gql(CreateTaskDocument, { input: ok }, key)).createTask).toMatchObject({
      __typename: 'QuotaExceeded',
      limit: 1,
      used: 1,
    });
  });
});

describe('nextPeriodEnd', () => {
  it('steps whole months past now', () => {
    const end = new Date(Date.UTC(2026, 0, 1));
    expect(nextPeriodEnd(end, Date.UTC(2026, 0, 1)).toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(nextPeriodEnd(end, Date.UTC(2026, 3, 15)).toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(nextPeriodEnd(end, Date.UTC(2025, 11, 31)).toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});
