// Concurrent requests against one database: every state change is a
// conditional write in a transaction, so races resolve to exactly one winner.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelScheduleDocument,
  DeleteTaskDocument,
  DeleteTasksDocument,
  PauseScheduleDocument,
  ResumeScheduleDocument,
  TaskDocument,
  UpdateTaskDocument,
} from '../src/generated/client/graphql.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';

const count = (answers: ({ __typename: string } | null)[]) =>
  answers.reduce<Record<string, number>>((acc, a) => {
    const name = a?.__typename ?? 'null';
    acc[name] = (acc[name] ?? 0) + 1;
    return acc;
  }, {});

describe('under the default limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('20 concurrent cancelSchedule on one ACTIVE task: 1 success, 9 InvalidStatus, 10 RateLimited (SCHEDULE)', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id, { status: 'ACTIVE' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => (await h.gql(CancelScheduleDocument, { id: taskId }, key)).cancelSchedule),
    );
    expect(count(answers)).toEqual({ CancelScheduleSuccess: 1, InvalidStatus: 9, RateLimited: 10 });
    for (const a of answers) {
      if (a?.__typename === 'RateLimited') expect(a.scope).toBe('SCHEDULE');
      if (a?.__typename === 'InvalidStatus') expect(a.currentStatus).toBe('CANCELLED');
    }
    expect(await h.quotaUsed(id)).toBe(1);
    expect((await h.db.read.task.findUniqueOrThrow({ where: { id: taskId } })).status).toBe('CANCELLED');
  });
});

describe('with limits raised', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ limits: { accountMax: 100_000, scheduleMax: 100_000 } });
  });
  afterEach(() => h.clock.advance(60));
  afterAll(() => h.close());

  it('20 concurrent deleteTask on one task: 1 success, 19 NotFound, one unit consumed', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id);
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => (await h.gql(DeleteTaskDocument, { id: taskId }, key)).deleteTask),
    );
    expect(count(answers)).toEqual({ DeleteTaskSuccess: 1, NotFound: 19 });
    expect(await h.quotaUsed(id)).toBe(1);
  });

  it('with 1 unit left, 20 concurrent deleteTask of different tasks: 1 success, 19 QuotaExceeded', async () => {
    const { id, key } = await h.account({ quotaLimit: 10, quotaUsed: 9 });
    const ids = await h.tasks(
      id,
      Array.from({ length: 20 }, () => ({})),
    );
    const answers = await Promise.all(
      ids.map(async (taskId) => (await h.gql(DeleteTaskDocument, { id: taskId }, key)).deleteTask),
    );
    expect(count(answers)).toEqual({ DeleteTaskSuccess: 1, QuotaExceeded: 19 });
    expect(await h.quotaUsed(id)).toBe(10);
    expect(await h.db.read.task.count({ where: { accountId: id } })).toBe(19);
  });

  it('concurrent overlapping deleteTasks delete each task once and charge each deletion once', async () => {
    const { id, key } = await h.account();
    const ids = await h.tasks(
      id,
      Array.from({ length: 30 }, () => ({})),
    );
    const batches = Array.from({ length: 10 }, (_, i) => ids.slice(i * 2, i * 2 + 12));
    const answers = await Promise.all(
      batches.map(async (batch) => (await h.gql(DeleteTasksDocument, { ids: batch }, key)).deleteTasks),
    );
    const deleted = answers.flatMap((a) => narrow(a, 'DeleteTasksSuccess').deletedIds);
    expect(new Set(deleted).size).toBe(deleted.length);
    expect(new Set(deleted)).toEqual(new Set(ids.slice(0, 30)));
    expect(await h.quotaUsed(id)).toBe(30);
  });

  it('20 concurrent pauseSchedule of one ACTIVE task: 1 success, 19 InvalidStatus, one unit, one version', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id);
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => (await h.gql(PauseScheduleDocument, { id: taskId }, key)).pauseSchedule),
    );
    expect(count(answers)).toEqual({ PauseScheduleSuccess: 1, InvalidStatus: 19 });
    for (const a of answers) if (a?.__typename === 'InvalidStatus') expect(a.currentStatus).toBe('PAUSED');
    expect(await h.quotaUsed(id)).toBe(1);
    expect(await h.db.read.task.findUniqueOrThrow({ where: { id: taskId } })).toMatchObject({
      status: 'PAUSED',
      version: 2,
      nextRunAt: null,
    });
  });

  it('20 concurrent updateTask from one expectedVersion: 1 success, 19 Conflict; the winner is stored', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id, { version: 4 });
    const answers = await Promise.all(
      Array.from(
        { length: 20 },
        async (_, i) =>
          (await h.gql(UpdateTaskDocument, { id: taskId, input: { name: `editor ${i}` }, expectedVersion: 4 }, key))
            .updateTask,
      ),
    );
    expect(count(answers)).toEqual({ UpdateTaskSuccess: 1, Conflict: 19 });
    const winner = narrow(
      answers.find((a) => a?.__typename === 'UpdateTaskSuccess'),
      'UpdateTaskSuccess',
    ).task;
    for (const a of answers)
      if (a?.__typename === 'Conflict') expect(a).toMatchObject({ currentVersion: 5, expectedVersion: 4 });
    expect(await h.db.read.task.findUniqueOrThrow({ where: { id: taskId } })).toMatchObject({
      name: winner.name,
      version: 5,
    });
    expect(winner.version).toBe(5);
    expect(await h.quotaUsed(id)).toBe(1);
  });

  it('pause racing cancel (and resume) always ends in a state the successful transitions explain', async () => {
    const { id, key } = await h.account();
    for (let round = 0; round < 10; round++) {
      const taskId = await h.task(id);
      const [paused, cancelled, resumed] = await Promise.all([
        h.gql(PauseScheduleDocument, { id: taskId }, key).then((d) => d.pauseSchedule),
        h.gql(CancelScheduleDocument, { id: taskId }, key).then((d) => d.cancelSchedule),
        h.gql(ResumeScheduleDocument, { id: taskId }, key).then((d) => d.resumeSchedule),
      ]);
      // Cancel is allowed from ACTIVE and PAUSED, so it always wins in the end.
      expect(narrow(cancelled, 'CancelScheduleSuccess').newStatus).toBe('CANCELLED');
      const row = await h.db.read.task.findUniqueOrThrow({ where: { id: taskId } });
      const successes = [paused, cancelled, resumed].filter((a) => a?.__typename?.endsWith('Success')).length;
      expect(row).toMatchObject({ status: 'CANCELLED', nextRunAt: null, version: 1 + successes });
      // Each success saw the status it moved from.
      const c = narrow(cancelled, 'CancelScheduleSuccess');
      if (paused?.__typename === 'PauseScheduleSuccess') expect(paused.oldStatus).toBe('ACTIVE');
      else expect(narrow(paused, 'InvalidStatus').currentStatus).toMatch(/CANCELLED|PAUSED/);
      if (resumed?.__typename === 'ResumeScheduleSuccess') expect(resumed.oldStatus).toBe('PAUSED');
      expect(['ACTIVE', 'PAUSED']).toContain(c.oldStatus);
    }
  });

  it('a read racing a cancel sees the task before or after, never a half-state', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id, { status: 'PAUSED' });
    const [reads, cancel] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, async () => (await h.gql(TaskDocument, { id: taskId }, key)).task)),
      h.gql(CancelScheduleDocument, { id: taskId }, key),
    ]);
    narrow(cancel.cancelSchedule, 'CancelScheduleSuccess');
    for (const answer of reads) {
      const t = narrow(answer, 'Task');
      expect([
        ['PAUSED', 1],
        ['CANCELLED', 2],
      ]).toContainEqual([t.status, t.version]);
    }
  });
});
