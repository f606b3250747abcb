import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelScheduleDocument,
  CreateTaskDocument,
  type CreateTaskInput,
  DeleteTaskDocument,
  DeleteTasksDocument,
  TaskDocument,
} from '../src/generated/client/graphql.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 100_000, scheduleMax: 1000 } });
});
afterAll(() => h.close());

const validInput: CreateTaskInput = {
  name: 'task screenshot',
  api: 'SCREENSHOT',
  query: 'url=https%3A%2F%2Fexample.com&full_page=true',
  frequency: 'CUSTOM',
  crontab: '34 9 28 * *',
  timezone: 'Europe/Paris',
};

const create = async (input: CreateTaskInput, key: string) =>
  (await h.gql(CreateTaskDocument, { input }, key)).createTask;
const del = async (id: string, key: string) => (await h.gql(DeleteTaskDocument, { id }, key)).deleteTask;
const cancel = async (id: string, key: string) => (await h.gql(CancelScheduleDocument, { id }, key)).cancelSchedule;
const delMany = async (ids: string[], key: string, atomic?: boolean) =>
  (await h.gql(DeleteTasksDocument, { ids, atomic }, key)).deleteTasks;

describe('Mutation.createTask', () => {
  it('creates the task, returns it in CreateTaskSuccess and consumes one unit', async () => {
    const { id, key } = await h.account();
    const { task } = narrow(await create(validInput, key), 'CreateTaskSuccess');
    expect(task).toMatchObject({
      name: 'task screenshot',
      api: 'SCREENSHOT',
      frequency: 'CUSTOM',
      crontab: '34 9 28 * *',
      timezone: 'Europe/Paris',
      enabled: true,
      status: 'ACTIVE',
      inProgress: false,
      runs: 0,
    });
    expect(task.id).toMatch(/^[0-9a-z]{16}$/);
    expect(await h.quotaUsed(id)).toBe(1);
    expect(narrow((await h.gql(TaskDocument, { id: task.id }, key)).task, 'Task').name).toBe('task screenshot');
  });

  it('fills the crontab from a non-custom frequency and starts PAUSED when disabled', async () => {
    const { key } = await h.account();
    const input = { ...validInput, frequency: 'EVERY_HOUR', crontab: null, timezone: null, enabled: false } as const;
    expect(narrow(await create(input, key), 'CreateTaskSuccess').task).toMatchObject({
      crontab: '0 * * * *',
      timezone: 'Etc/UTC',
      enabled: false,
      status: 'PAUSED',
    });
  });

  it.each([
    ['a bad crontab', { crontab: '61 * * * *' }, 'crontab'],
    ['a six-field crontab', { crontab: '0 0 * * * *' }, 'crontab'],
    ['a crontab that never fires', { crontab: '0 0 31 2 *' }, 'crontab'],
    ['CUSTOM without crontab', { crontab: null }, 'crontab'],
    ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, 'timezone'],
    ['an offset instead of a zone', { timezone: '+01:00' }, 'timezone'],
    ['a query holding access_key', { query: 'url=x&access_key=secret' }, 'query'],
    ['a query holding ACCESS_KEY', { query: '?ACCESS_KEY=secret' }, 'query'],
    ['an empty name', { name: '   ' }, 'name'],
    ['a name over 255 characters', { name: 'x'.repeat(256) }, 'name'],
  ] as [string, Partial<CreateTaskInput>, string][])(
    'answers ValidationError for %s, consuming nothing',
    async (_, change, field) => {
      const { id, key } = await h.account();
      const answer = narrow(await create({ ...validInput, ...change }, key), 'ValidationError');
      expect(answer).toMatchObject({ code: 'VALIDATION', field });
      expect(answer.message.length).toBeGreaterThan(10);
      expect(await h.quotaUsed(id)).toBe(0);
      expect(await h.db.read.task.count({ where: { accountId: id } })).toBe(0);
    },
  );

  it('accepts a name of exactly 255 characters and IANA aliases such as Etc/UTC', async () => {
    const { key } = await h.account();
    const input = { ...validInput, name: 'n'.repeat(255), timezone: 'Etc/UTC' };
    expect(narrow(await create(input, key), 'CreateTaskSuccess').task.timezone).toBe('Etc/UTC');
  });
});

describe('Mutation.deleteTask', () => {
  it('deletes the task and consumes one unit', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id);
    expect(await del(taskId, key)).toEqual({ __typename: 'DeleteTaskSuccess', deletedId: taskId });
    expect(await h.db.read.task.findUnique({ where: { id: taskId } })).toBeNull();
    expect(await h.quotaUsed(id)).toBe(1);
  });

  it("answers NotFound for an unknown id and for another account's task, consuming nothing", async () => {
    const owner = await h.account();
    const other = await h.account();
    const taskId = await h.task(owner.id);
    for (const id of ['missing', taskId]) {
      expect(narrow(await del(id, other.key), 'NotFound').code).toBe('NOT_FOUND');
    }
    expect(await h.db.read.task.findUnique({ where: { id: taskId } })).not.toBeNull();
    expect(await h.quotaUsed(other.id)).toBe(0);
  });

  it('refuses a task whose run is in progress with InvalidStatus, consuming nothing', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id, { inProgress: true, status: 'ACTIVE' });
    expect(narrow(await del(taskId, key), 'InvalidStatus')).toMatchObject({
      code: 'INVALID_STATUS',
      currentStatus: 'ACTIVE',
      inProgress: true,
    });
    expect(await h.db.read.task.findUnique({ where: { id: taskId } })).not.toBeNull();
    expect(await h.quotaUsed(id)).toBe(0);
  });
});

describe('Mutation.cancelSchedule', () => {
  it.each(['ACTIVE', 'PAUSED', 'CREATE_PENDING', 'ERROR'] as const)('cancels from %s', async (status) => {
    const { id, key } = await h.account();
    const taskId = await h.task(id, { status });
    const cancelled = narrow(await cancel(taskId, key), 'CancelScheduleSuccess');
    expect(cancelled).toMatchObject({ scheduleId: taskId, oldStatus: status, newStatus: 'CANCELLED' });
    expect(cancelled.task).toMatchObject({ id: taskId, status: 'CANCELLED', enabled: false, nextRunAt: null });
    expect(await h.quotaUsed(id)).toBe(1);
  });

  it.each(['CANCELLED', 'NON_EXISTING'] as const)(
    'answers InvalidStatus from %s, consuming nothing',
    async (status) => {
      const { id, key } = await h.account();
      const taskId = await h.task(id, { status });
      expect(narrow(await cancel(taskId, key), 'InvalidStatus')).toMatchObject({
        currentStatus: status,
        inProgress: false,
      });
      expect(await h.quotaUsed(id)).toBe(0);
    },
  );

  it('answers NotFound for an unknown id', async () => {
    const { key } = await h.account();
    narrow(await cancel('nope', key), 'NotFound');
  });
});

describe('Mutation.deleteTasks', () => {
  it('deletes what it can, reports every distinct id once, in order, and consumes one unit per deletion', async () => {
    const { id, key } = await h.account();
    const [a, b, running] = (await h.tasks(id, [{}, {}, { inProgress: true }])) as [string, string, string];
    const foreign = await h.task((await h.account()).id);
    const batch = narrow(await delMany([a, 'missing', b, a, running, foreign, 'missing'], key), 'DeleteTasksSuccess');
    expect(batch.deletedIds).toEqual([a, b]);
    expect(batch.results.map((r) => [r.id, r.outcome.__typename])).toEqual([
      [a, 'TaskDeleted'],
      ['missing', 'NotFound'],
      [b, 'TaskDeleted'],
      [running, 'InvalidStatus'],
      [foreign, 'NotFound'],
    ]);
    expect(narrow(batch.results[3]!.outcome, 'InvalidStatus')).toMatchObject({
      inProgress: true,
      currentStatus: 'ACTIVE',
    });
    expect(await h.quotaUsed(id)).toBe(2);
    expect(await h.db.read.task.count({ where: { id: { in: [a, b] } } })).toBe(0);
    expect(await h.db.read.task.count({ where: { id: { in: [running, foreign] } } })).toBe(2);
  });

  it('with atomic: true deletes nothing if any item fails, answers an error member and says which', async () => {
    const { id, key } = await h.account();
    const [a, b] = (await h.tasks(id, [{}, {}])) as [string, string];
    // Not DeleteTasksSuccess: a client switching on __typename must never see
    // success when nothing was deleted.
    const batch = narrow(await delMany([a, 'missing', b], key, true), 'DeleteTasksAborted');
    expect(batch.code).toBe('BATCH_ABORTED');
    expect(batch.message).toBe('Nothing was deleted: 1 of 3 items failed and the batch was atomic.');
    expect(batch.results.map((r) => r.id)).toEqual([a, 'missing', b]);
    expect(batch.results.map((r) => r.outcome.__typename)).toEqual(['BatchAborted', 'NotFound', 'BatchAborted']);
    expect(narrow(batch.results[0]!.outcome, 'BatchAborted').code).toBe('BATCH_ABORTED');
    expect(await h.db.read.task.count({ where: { accountId: id } })).toBe(2);
    expect(await h.quotaUsed(id)).toBe(0);
  });

  it('with atomic: true deletes everything when every item succeeds', async () => {
    const { id, key } = await h.account();
    const ids = await h.tasks(id, [{}, {}, {}]);
    expect(narrow(await delMany(ids, key, true), 'DeleteTasksSuccess').deletedIds).toEqual(ids);
    expect(await h.quotaUsed(id)).toBe(3);
  });

  it('answers ValidationError for an empty list or more than 1000 ids', async () => {
    const { id, key } = await h.account();
    expect(narrow(await delMany([], key), 'ValidationError').field).toBe('ids');
    const tooMany = Array.from({ length: 1001 }, (_, i) => `id-${i}`);
    expect(narrow(await delMany(tooMany, key), 'ValidationError').field).toBe('ids');
    expect(await h.quotaUsed(id)).toBe(0);
  });

  it('accepts exactly 1000 ids', async () => {
    const { id, key } = await h.account({ quotaLimit: 5000 });
    const ids = await h.tasks(
      id,
      Array.from({ length: 1000 }, () => ({})),
    );
    expect(narrow(await delMany(ids, key), 'DeleteTasksSuccess').deletedIds).toHaveLength(1000);
    expect(await h.quotaUsed(id)).toBe(1000);
  });

  it('answers QuotaExceeded and deletes nothing when the quota cannot cover every deletion', async () => {
    const { id, key } = await h.account({ quotaLimit: 5, quotaUsed: 3 });
    const ids = await h.tasks(id, [{}, {}, {}]);
    expect(narrow(await delMany(ids, key), 'QuotaExceeded')).toMatchObject({ limit: 5, used: 3, requested: 3 });
    expect(await h.db.read.task.count({ where: { accountId: id } })).toBe(3);
    expect(await h.quotaUsed(id)).toBe(3);
  });
});
