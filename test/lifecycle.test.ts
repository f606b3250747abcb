// pauseSchedule, resumeSchedule, updateTask and schedulePreview through the
// real app: the lifecycle, versions, the stored nextRunAt, and their checks
// in the same order and with the same quota and limits as every mutation.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CancelScheduleDocument,
  CreateTaskDocument,
  type CreateTaskInput,
  PauseScheduleDocument,
  ResumeScheduleDocument,
  SchedulePreviewDocument,
  TaskDocument,
  TaskNextRunsDocument,
  UpdateTaskDocument,
  type UpdateTaskInput,
} from '../src/generated/client/graphql.js';
import { importData } from '../src/services/import.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 100_000, scheduleMax: 100_000, windowSeconds: 60 } });
});
beforeEach(() => {
  h.clock.ms = Date.UTC(2026, 5, 15, 12, 0, 0);
});
afterAll(() => h.close());

const input: CreateTaskInput = {
  name: 'nightly',
  api: 'SCREENSHOT',
  query: 'url=https%3A%2F%2Fexample.com',
  frequency: 'EVERY_DAY',
  crontab: '30 2 * * *',
  timezone: 'America/New_York',
};
const create = async (key: string, over: Partial<CreateTaskInput> = {}) =>
  narrow((await h.gql(CreateTaskDocument, { input: { ...input, ...over } }, key)).createTask, 'CreateTaskSuccess').task;
const pause = async (id: string, key: string) => (await h.gql(PauseScheduleDocument, { id }, key)).pauseSchedule;
const resume = async (id: string, key: string) => (await h.gql(ResumeScheduleDocument, { id }, key)).resumeSchedule;
const cancel = async (id: string, key: string) => (await h.gql(CancelScheduleDocument, { id }, key)).cancelSchedule;
const update = async (id: string, key: string, change: UpdateTaskInput, expectedVersion?: number) =>
  (await h.gql(UpdateTaskDocument, { id, input: change, expectedVersion }, key)).updateTask;
const read = async (id: string, key: string) => narrow((await h.gql(TaskDocument, { id }, key)).task, 'Task');
const stored = (id: string) => h.db.read.task.findUniqueOrThrow({ where: { id } });

describe('a new task', () => {
  it('starts at version 1 with its schedule in words and its next run stored', async () => {
    const { key } = await h.account();
    const task = await create(key);
    expect(task).toMatchObject({
      version: 1,
      status: 'ACTIVE',
      enabled: true,
      description: 'At 02:30',
      // 2026-06-15 12:00Z is 08:00 in New York (EDT): next 02:30 EDT is 06:30Z tomorrow.
      nextRunAt: '2026-06-16T06:30:00.000Z',
    });
    expect((await stored(task.id)).nextRunAt).toEqual(new Date('2026-06-16T06:30:00Z'));
  });

  it('created with enabled: false is PAUSED, with no next run, and resumeSchedule starts it', async () => {
    const { key } = await h.account();
    const task = await create(key, { enabled: false });
    expect(task).toMatchObject({ status: 'PAUSED', enabled: false, nextRunAt: null, version: 1 });
    const resumed = narrow(await resume(task.id, key), 'ResumeScheduleSuccess');
    expect(resumed).toMatchObject({ scheduleId: task.id, oldStatus: 'PAUSED', newStatus: 'ACTIVE' });
    expect(resumed.task).toMatchObject({ status: 'ACTIVE', enabled: true, version: 2 });
    expect(resumed.task.nextRunAt).toBe('2026-06-16T06:30:00.000Z');
  });
});

describe('frequency and crontab agree', () => {
  it.each([
    ['EVERY_HOUR', '*/5 * * * *'],
    ['EVERY_HOUR', '0 9 * * *'],
    ['EVERY_MINUTE', '0 * * * *'],
    ['EVERY_DAY', '0 9 * * 1-5'],
    ['EVERY_DAY', '0 */2 * * *'],
    ['EVERY_MONTH', '0 9 * * *'],
    ['EVERY_MONTH', '0 9 1,15 * *'],
  ] as const)('%s with %s is a ValidationError on crontab', async (frequency, crontab) => {
    const { id, key } = await h.account();
    const answer = (await h.gql(CreateTaskDocument, { input: { ...input, frequency, crontab } }, key)).createTask;
    expect(narrow(answer, 'ValidationError')).toMatchObject({ field: 'crontab', code: 'VALIDATION' });
    expect(narrow(answer, 'ValidationError').message).toContain(frequency);
    expect(await h.quotaUsed(id)).toBe(0);
  });

  it.each([
    ['EVERY_MINUTE', '* * * * *'],
    ['EVERY_HOUR', '15 * * * *'],
    ['EVERY_DAY', '30 2 * * *'],
    ['EVERY_MONTH', '34 9 28 * *'],
    ['CUSTOM', '*/5 9-17 * * 1-5'],
  ] as const)('%s with %s is accepted', async (frequency, crontab) => {
    const { key } = await h.account();
    expect(await create(key, { frequency, crontab })).toMatchObject({ frequency, crontab });
  });
});

describe('pauseSchedule and resumeSchedule', () => {
  it('ACTIVE → PAUSED → ACTIVE, each a new version, nextRunAt cleared then planned from now', async () => {
    const { id, key } = await h.account();
    const task = await create(key);
    const paused = narrow(await pause(task.id, key), 'PauseScheduleSuccess');
    expect(paused).toMatchObject({ scheduleId: task.id, oldStatus: 'ACTIVE', newStatus: 'PAUSED' });
    expect(paused.task).toMatchObject({ status: 'PAUSED', enabled: false, nextRunAt: null, version: 2 });
    // Paused for three days: resuming plans from now, no burst of missed runs.
    h.clock.ms += 3 * 86_400_000;
    const resumed = narrow(await resume(task.id, key), 'ResumeScheduleSuccess');
    expect(resumed.task).toMatchObject({ status: 'ACTIVE', version: 3, nextRunAt: '2026-06-19T06:30:00.000Z' });
    expect(await stored(task.id)).toMatchObject({ status: 'ACTIVE', version: 3 });
    expect(await h.quotaUsed(id)).toBe(3);
  });

  it.each(['PAUSED', 'CANCELLED', 'ERROR', 'CREATE_PENDING', 'NON_EXISTING'] as const)(
    'pause from %s is InvalidStatus and consumes nothing',
    async (status) => {
      const { id, key } = await h.account();
      const taskId = await h.task(id, { status });
      expect(narrow(await pause(taskId, key), 'InvalidStatus')).toMatchObject({ currentStatus: status });
      expect(await h.quotaUsed(id)).toBe(0);
      expect((await stored(taskId)).version).toBe(1);
    },
  );

  it.each(['ACTIVE', 'CANCELLED', 'CREATE_PENDING', 'NON_EXISTING'] as const)(
    'resume from %s is InvalidStatus',
    async (status) => {
      const { id, key } = await h.account();
      const taskId = await h.task(id, { status });
      expect(narrow(await resume(taskId, key), 'InvalidStatus')).toMatchObject({ currentStatus: status });
      expect(await h.quotaUsed(id)).toBe(0);
    },
  );

  it('resume from ERROR plans the next run', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id, { status: 'ERROR', nextRunAt: null });
    const resumed = narrow(await resume(taskId, key), 'ResumeScheduleSuccess');
    expect(resumed).toMatchObject({ oldStatus: 'ERROR', newStatus: 'ACTIVE' });
    expect(resumed.task.nextRunAt).toBe('2026-06-16T00:00:00.000Z');
  });

  it("is NotFound for another account's task, and ValidationError for an impossible id", async () => {
    const owner = await h.account();
    const other = await h.account();
    const taskId = await h.task(owner.id);
    expect(narrow(await pause(taskId, other.key), 'NotFound').code).toBe('NOT_FOUND');
    expect(narrow(await resume('x'.repeat(65), other.key), 'ValidationError').field).toBe('id');
    expect((await stored(taskId)).status).toBe('ACTIVE');
  });

  it('count against the per-schedule limit shared with cancelSchedule', async () => {
    const limited = await createHarness({ limits: { accountMax: 1000, scheduleMax: 3, windowSeconds: 60 } });
    try {
      const { id, key } = await limited.account();
      const taskId = await limited.task(id);
      const pauseIt = async () => (await limited.gql(PauseScheduleDocument, { id: taskId }, key)).pauseSchedule;
      const resumeIt = async () => (await limited.gql(ResumeScheduleDocument, { id: taskId }, key)).resumeSchedule;
      expect(narrow(await pauseIt(), 'PauseScheduleSuccess').newStatus).toBe('PAUSED');
      expect(narrow(await resumeIt(), 'ResumeScheduleSuccess').newStatus).toBe('ACTIVE');
      expect(narrow(await pauseIt(), 'PauseScheduleSuccess').newStatus).toBe('PAUSED');
      const refused = (await limited.gql(CancelScheduleDocument, { id: taskId }, key)).cancelSchedule;
      expect(narrow(refused, 'RateLimited')).toMatchObject({ scope: 'SCHEDULE', limit: 3 });
      expect(await limited.quotaUsed(id)).toBe(3);
    } finally {
      await limited.close();
    }
  });

  it('check access in order: Unauthorized, PaymentRequired, RateLimited, QuotaExceeded, then the task', async () => {
    const limited = await createHarness({ limits: { accountMax: 1, scheduleMax: 10, windowSeconds: 60 } });
    try {
      // Every check would fail for this account: billing answers first.
      const worst = await limited.account({ billing: 'UNPAID', plan: 'FREE', quotaLimit: 1, quotaUsed: 1 });
      const ask = async (key: string) =>
        (await limited.gql(PauseScheduleDocument, { id: 'missing' }, key)).pauseSchedule;
      expect(narrow(await ask('not-a-key'), 'Unauthorized').code).toBe('UNAUTHORIZED');
      expect(narrow(await ask(worst.key), 'PaymentRequired').reason).toBe('UNPAID_INVOICE');
      // Paid, SCALE, no quota left, rate limit reached: RateLimited, then QuotaExceeded, then NotFound.
      const spent = await limited.account({ quotaLimit: 1, quotaUsed: 1 });
      expect(narrow(await ask(spent.key), 'QuotaExceeded').code).toBe('QUOTA_EXCEEDED');
      expect(narrow(await ask(spent.key), 'RateLimited').scope).toBe('ACCOUNT');
      const fresh = await limited.account();
      expect(narrow(await ask(fresh.key), 'NotFound').code).toBe('NOT_FOUND');
      expect(await limited.quotaUsed(fresh.id)).toBe(0);
    } finally {
      await limited.close();
    }
  });

  it('need quota and the SCALE plan, checked in order', async () => {
    const unpaid = await h.account({ billing: 'UNPAID', plan: 'FREE' });
    const free = await h.account({ plan: 'FREE' });
    const empty = await h.account({ quotaLimit: 1, quotaUsed: 1 });
    const taskId = await h.task(empty.id);
    expect(narrow(await pause(taskId, unpaid.key), 'PaymentRequired').reason).toBe('UNPAID_INVOICE');
    expect(narrow(await pause(taskId, free.key), 'PaymentRequired').reason).toBe('PLAN_UPGRADE_REQUIRED');
    expect(narrow(await pause(taskId, empty.key), 'QuotaExceeded')).toMatchObject({ limit: 1, used: 1 });
    expect(narrow(await pause(taskId, 'not-a-key'), 'Unauthorized').code).toBe('UNAUTHORIZED');
    expect((await stored(taskId)).status).toBe('ACTIVE');
  });
});

describe('updateTask', () => {
  it('changes only the given fields, bumps the version, consumes one unit', async () => {
    const { id, key } = await h.account();
    const task = await create(key);
    const updated = narrow(await update(task.id, key, { name: '  renamed  ' }, 1), 'UpdateTaskSuccess');
    expect(updated.changed).toBe(true);
    expect(updated.task).toMatchObject({ ...task, name: 'renamed', version: 2 });
    expect(await h.quotaUsed(id)).toBe(2);
  });

  it('a new crontab or time zone replans the next run; a rename keeps it', async () => {
    const { key } = await h.account();
    const task = await create(key);
    const moved = narrow(await update(task.id, key, { timezone: 'Europe/Berlin' }), 'UpdateTaskSuccess').task;
    // 02:30 CEST = 00:30Z.
    expect(moved).toMatchObject({ timezone: 'Europe/Berlin', nextRunAt: '2026-06-16T00:30:00.000Z', version: 2 });
    const custom = narrow(
      await update(task.id, key, { frequency: 'CUSTOM', crontab: ' */15  *  * * * ' }),
      'UpdateTaskSuccess',
    ).task;
    expect(custom).toMatchObject({ crontab: '*/15 * * * *', nextRunAt: '2026-06-15T12:15:00.000Z', version: 3 });
    expect(custom.description).toBe('Every 15 minutes');
    // An hour later the planned 12:15 run is due; a rename keeps it planned (due) rather than
    // skipping it by planning from now.
    h.clock.ms += 3_600_000;
    const renamed = narrow(await update(task.id, key, { name: 'kept' }), 'UpdateTaskSuccess').task;
    expect(renamed.nextRunAt).toBe('2026-06-15T12:15:00.000Z');
  });

  it('a new frequency alone keeps an agreeing crontab, else takes the preset default', async () => {
    const { key } = await h.account();
    const task = await create(key, { frequency: 'CUSTOM', crontab: '30 2 * * *' });
    const daily = narrow(await update(task.id, key, { frequency: 'EVERY_DAY' }), 'UpdateTaskSuccess').task;
    expect(daily).toMatchObject({ frequency: 'EVERY_DAY', crontab: '30 2 * * *' });
    const hourly = narrow(await update(task.id, key, { frequency: 'EVERY_HOUR' }), 'UpdateTaskSuccess').task;
    expect(hourly).toMatchObject({ frequency: 'EVERY_HOUR', crontab: '0 * * * *', description: 'Every hour' });
    // A crontab alone must agree with the current frequency.
    const refused = narrow(await update(task.id, key, { crontab: '*/5 * * * *' }), 'ValidationError');
    expect(refused.field).toBe('crontab');
    expect(refused.message).toContain('CUSTOM');
  });

  it('validates like createTask, and nothing changes', async () => {
    const { id, key } = await h.account();
    const task = await create(key);
    const cases: [UpdateTaskInput, string][] = [
      [{}, 'input'],
      [{ name: '   ' }, 'name'],
      [{ query: 'access_key=abc' }, 'query'],
      [{ timezone: 'Mars/Olympus_Mons' }, 'timezone'],
      [{ crontab: '61 2 * * *' }, 'crontab'],
      [{ frequency: 'CUSTOM', crontab: '0 0 30 2 *' }, 'crontab'],
    ];
    for (const [change, field] of cases) {
      expect(narrow(await update(task.id, key, change), 'ValidationError').field, JSON.stringify(change)).toBe(field);
    }
    expect(await stored(task.id)).toMatchObject({ version: 1, name: 'nightly', crontab: '30 2 * * *' });
    expect(await h.quotaUsed(id)).toBe(1);
  });

  it('with a stale expectedVersion is a Conflict carrying the current version', async () => {
    const { id, key } = await h.account();
    const task = await create(key);
    narrow(await pause(task.id, key), 'PauseScheduleSuccess');
    const conflict = narrow(await update(task.id, key, { name: 'late' }, 1), 'Conflict');
    expect(conflict).toMatchObject({ code: 'CONFLICT', currentVersion: 2, expectedVersion: 1 });
    // It carries the task as it is now, so a form can show what changed.
    expect(conflict.task).toMatchObject({ id: task.id, version: 2, status: 'PAUSED', name: 'nightly' });
    expect((await stored(task.id)).name).toBe('nightly');
    expect(await h.quotaUsed(id)).toBe(2);
    // Without expectedVersion the last writer wins; a paused task stays paused with no next run.
    const updated = narrow(await update(task.id, key, { crontab: '45 3 * * *' }), 'UpdateTaskSuccess').task;
    expect(updated).toMatchObject({ status: 'PAUSED', crontab: '45 3 * * *', nextRunAt: null, version: 3 });
  });

  it.each(['CANCELLED', 'NON_EXISTING'] as const)('of a %s task is InvalidStatus (final)', async (status) => {
    const { id, key } = await h.account();
    const taskId = await h.task(id, { status });
    expect(narrow(await update(taskId, key, { name: 'x' }), 'InvalidStatus').currentStatus).toBe(status);
    expect(await h.quotaUsed(id)).toBe(0);
  });

  it('that changes nothing answers changed: false, same version, no quota', async () => {
    const { id, key } = await h.account();
    const task = await create(key);
    const same = narrow(await update(task.id, key, { name: 'nightly', crontab: '30 2 * * *' }, 1), 'UpdateTaskSuccess');
    expect(same).toMatchObject({ changed: false, task: { version: 1 } });
    expect(await h.quotaUsed(id)).toBe(1);
  });

  it("is NotFound for another account's task", async () => {
    const owner = await h.account();
    const other = await h.account();
    const taskId = await h.task(owner.id);
    expect(narrow(await update(taskId, other.key, { name: 'mine' }), 'NotFound').code).toBe('NOT_FOUND');
  });

  it('after cancelSchedule nothing moves the task again: pause, resume and update are InvalidStatus', async () => {
    const { id, key } = await h.account();
    const task = await create(key);
    expect(narrow(await cancel(task.id, key), 'CancelScheduleSuccess').task).toMatchObject({
      status: 'CANCELLED',
      nextRunAt: null,
      version: 2,
    });
    expect(narrow(await pause(task.id, key), 'InvalidStatus').currentStatus).toBe('CANCELLED');
    expect(narrow(await resume(task.id, key), 'InvalidStatus').currentStatus).toBe('CANCELLED');
    expect(narrow(await update(task.id, key, { name: 'revived' }), 'InvalidStatus').message).toContain('final');
    expect(await stored(task.id)).toMatchObject({ status: 'CANCELLED', version: 2 });
    expect(await h.quotaUsed(id)).toBe(2);
  });
});

describe('Task.nextRuns', () => {
  it('starts at nextRunAt, marks DST-shifted runs, and is [] unless ACTIVE', async () => {
    const { id, key } = await h.account();
    h.clock.ms = Date.UTC(2026, 2, 6, 12, 0, 0);
    const task = await create(key);
    const answer = narrow((await h.gql(TaskNextRunsDocument, { id: task.id, count: 3 }, key)).task, 'Task');
    expect(answer.nextRunAt).toBe('2026-03-07T07:30:00.000Z');
    expect(answer.nextRuns).toEqual([
      { at: '2026-03-07T07:30:00.000Z', local: '2026-03-07T02:30:00-05:00', shifted: false },
      { at: '2026-03-08T07:00:00.000Z', local: '2026-03-08T03:00:00-04:00', shifted: true },
      { at: '2026-03-09T06:30:00.000Z', local: '2026-03-09T02:30:00-04:00', shifted: false },
    ]);
    const after = narrow(
      (await h.gql(TaskNextRunsDocument, { id: task.id, count: 1, after: '2026-11-01T00:00:00Z' }, key)).task,
      'Task',
    );
    expect(after.nextRuns).toEqual([
      { at: '2026-11-01T07:30:00.000Z', local: '2026-11-01T02:30:00-05:00', shifted: false },
    ]);
    const paused = await h.task(id, { status: 'PAUSED' });
    expect(narrow((await h.gql(TaskNextRunsDocument, { id: paused }, key)).task, 'Task').nextRuns).toEqual([]);
  });

  it('refuses a count out of 1–100, before anything runs', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id);
    for (const count of [0, 101]) {
      const { body } = await h.request(
        `{ task(id: "${taskId}") { ... on Task { nextRuns(count: ${count}) { at } } } }`,
        {},
        { key },
      );
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(body.errors?.[0]?.message).toContain('between 1 and 100');
    }
    // The same through a variable.
    const { body } = await h.request(
      'query Q($id: ID!, $n: Int) { task(id: $id) { ... on Task { nextRuns(count: $n) { at } } } }',
      { id: taskId, n: 500 },
      { key },
    );
    expect(body.errors?.[0]?.message).toContain('between 1 and 100');
  });

  it('refuses a request that could plan more than 5,000 runs whole, before anything runs', async () => {
    const { id, key } = await h.account();
    await h.tasks(
      id,
      Array.from({ length: 3 }, () => ({})),
    );
    const before = await h.quotaUsed(id);
    // 60 tasks × 100 runs: refused whole, not cut off half-way down the list.
    const { body } = await h.request(
      '{ tasks(first: 60) { ... on TaskConnection { edges { node { id nextRuns(count: 100) { at } } } } } }',
      {},
      { key },
    );
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.message).toMatch(/could plan 6000 runs; at most 5000 per request/);
    // Aliases add up, through fragments too.
    const aliases = Array.from({ length: 51 }, (_, i) => `r${i}: nextRuns(count: 100) { at }`).join(' ');
    const viaFragment = await h.request(
      `query Q($id: ID!) { task(id: $id) { ...Runs } } fragment Runs on Task { ${aliases} }`,
      { id: 'any' },
      { key },
    );
    expect(viaFragment.body.errors?.[0]?.message).toMatch(/could plan 5100 runs/);
    // Within the bound, the whole list answers: 50 tasks × 100 runs.
    const ok = await h.request(
      '{ tasks(first: 50) { ... on TaskConnection { edges { node { nextRuns(count: 100) { at } } } } } }',
      {},
      { key },
    );
    expect(ok.body.errors).toBeUndefined();
    const edges = (ok.body.data as { tasks: { edges: { node: { nextRuns: unknown[] } }[] } }).tasks.edges;
    expect(edges.length).toBe(3);
    expect(edges.every((e) => e.node.nextRuns.length === 100)).toBe(true);
    expect(await h.quotaUsed(id)).toBe(before);
  });

  it('refuses an after more than ten years from now', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id);
    for (const after of ['2046-06-15T12:00:00Z', '2006-06-15T12:00:00Z']) {
      const { body } = await h.request(TaskNextRunsDocument, { id: taskId, after }, { key });
      expect(body.errors?.[0]?.message, after).toContain('after must be within 3660 days of now');
    }
    const { body } = await h.request(
      TaskNextRunsDocument,
      { id: taskId, count: 1, after: '2036-01-01T00:00:00Z' },
      { key },
    );
    expect(narrow(body.data?.task, 'Task').nextRuns).toEqual([
      { at: '2036-01-02T00:00:00.000Z', local: '2036-01-02T00:00:00+00:00', shifted: false },
    ]);
  });
});

describe('Query.schedulePreview', () => {
  const preview = async (key: string, crontab: string, timezone: string, count?: number) =>
    (await h.gql(SchedulePreviewDocument, { crontab, timezone, count }, key)).schedulePreview;

  it('describes and lists the next runs from now, on any plan, consuming no quota', async () => {
    const { id, key } = await h.account({ plan: 'FREE', billing: 'UNPAID' });
    h.clock.ms = Date.UTC(2026, 9, 31, 12, 0, 0);
    const answer = narrow(await preview(key, '30 1 * * *', 'America/New_York', 3), 'SchedulePreview');
    expect(answer).toMatchObject({ crontab: '30 1 * * *', timezone: 'America/New_York', description: 'At 01:30' });
    // The fall-back day runs once, at the first 01:30.
    expect(answer.nextRuns).toEqual([
      { at: '2026-11-01T05:30:00.000Z', local: '2026-11-01T01:30:00-04:00', shifted: false },
      { at: '2026-11-02T06:30:00.000Z', local: '2026-11-02T01:30:00-05:00', shifted: false },
      { at: '2026-11-03T06:30:00.000Z', local: '2026-11-03T01:30:00-05:00', shifted: false },
    ]);
    expect(await h.quotaUsed(id)).toBe(0);
  });

  it.each([
    ['61 * * * *', 'Etc/UTC', 5, 'crontab'],
    ['0 0 30 2 *', 'Etc/UTC', 5, 'crontab'],
    ['* * * * *', 'Nowhere/City', 5, 'timezone'],
    ['* * * * *', 'Etc/UTC', 0, 'count'],
    ['* * * * *', 'Etc/UTC', 101, 'count'],
  ])('%s in %s (count %i) is a ValidationError on %s', async (crontab, timezone, count, field) => {
    const { key } = await h.account();
    expect(narrow(await preview(key, crontab, timezone, count), 'ValidationError').field).toBe(field);
  });

  it('with a frequency, requires the crontab to have its shape, as createTask does', async () => {
    const { key } = await h.account();
    const ask = async (crontab: string, frequency: 'EVERY_HOUR' | 'CUSTOM') =>
      (await h.gql(SchedulePreviewDocument, { crontab, timezone: 'Etc/UTC', frequency }, key)).schedulePreview;
    expect(narrow(await ask('*/5 * * * *', 'EVERY_HOUR'), 'ValidationError').message).toContain('EVERY_HOUR');
    expect(narrow(await ask('*/5 * * * *', 'CUSTOM'), 'SchedulePreview').description).toBe('Every 5 minutes');
    expect(narrow(await ask('5 * * * *', 'EVERY_HOUR'), 'SchedulePreview').nextRuns).toHaveLength(5);
  });

  it('needs a key and counts against the rate limit', async () => {
    expect(narrow(await preview('', '* * * * *', 'Etc/UTC'), 'Unauthorized').code).toBe('UNAUTHORIZED');
    const limited = await createHarness({ limits: { accountMax: 2, scheduleMax: 10, windowSeconds: 60 } });
    try {
      const { key } = await limited.account();
      const ask = async () =>
        (await limited.gql(SchedulePreviewDocument, { crontab: '* * * * *', timezone: 'Etc/UTC' }, key))
          .schedulePreview;
      narrow(await ask(), 'SchedulePreview');
      narrow(await ask(), 'SchedulePreview');
      expect(narrow(await ask(), 'RateLimited').scope).toBe('ACCOUNT');
    } finally {
      await limited.close();
    }
  });
});

describe('reads', () => {
  it('answer the stored nextRunAt without parsing a crontab', async () => {
    const { id, key } = await h.account();
    // A stored time no crontab would give: the read must show it as stored.
    const taskId = await h.task(id, { nextRunAt: new Date('2030-01-02T03:04:05.000Z') });
    expect((await read(taskId, key)).nextRunAt).toBe('2030-01-02T03:04:05.000Z');
  });
});

describe('the admin import', () => {
  const file = (tasks: Record<string, unknown>[]) => ({
    accounts: [{ name: `imported-${Math.random()}`, plan: 'scale', quota: 10, tasks }],
  });
  const entry = (id: string, rest: Record<string, unknown>) => ({
    id,
    name: id,
    api: 'pdf',
    query: 'url=x',
    timezone: 'Europe/Berlin',
    ...rest,
  });

  it('plans the next run of ACTIVE tasks and imports enabled: false as PAUSED', async () => {
    // 03:00 in Berlin on 2026-03-28: the next 02:30 is the one of the 29th, which does not exist.
    const now = Date.UTC(2026, 2, 28, 2, 0, 0);
    await importData(
      h.db,
      file([
        entry('imp-active', { frequency: 'every_day', crontab: '30 2 * * *' }),
        entry('imp-disabled', { frequency: 'every_day', crontab: '30 2 * * *', enabled: false }),
      ]),
      now,
    );
    // The first instant after the gap: 03:00 CEST = 01:00Z.
    expect(await stored('imp-active')).toMatchObject({
      status: 'ACTIVE',
      version: 1,
      nextRunAt: new Date('2026-03-29T01:00:00Z'),
    });
    expect(await stored('imp-disabled')).toMatchObject({ status: 'PAUSED', nextRunAt: null });
  });

  it('rejects a preset frequency whose crontab has another shape, naming the entry', async () => {
    const rejected = importData(h.db, file([entry('imp-bad', { frequency: 'every_hour', crontab: '*/5 * * * *' })]));
    await expect(rejected).rejects.toThrow(/imp-bad.*crontab.*EVERY_HOUR/s);
    expect(await h.db.read.task.findUnique({ where: { id: 'imp-bad' } })).toBeNull();
  });
});
