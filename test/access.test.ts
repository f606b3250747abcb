// The checks every operation shares: who may call, in which order the checks
// run, and that a failed check changes nothing.
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelScheduleDocument,
  CreateTaskDocument,
  DeleteTaskDocument,
  DeleteTasksDocument,
  TaskDocument,
  TasksDocument,
  ViewerDocument,
} from '../src/generated/client/graphql.js';
import { revokeApiKey } from '../src/services/accounts.js';
import { createHarness, type Document, type Harness, narrow } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 3, scheduleMax: 3 } });
});
afterAll(() => h.close());

type Answer = { __typename: string } & Record<string, unknown>;

interface Operation {
  field: string;
  writes: boolean;
  run(key: string | undefined, taskId: string): Promise<Answer>;
}

/** An operation on a task id, checked to answer 200 with no top-level errors. */
function operation<TData, TVars>(
  field: string,
  writes: boolean,
  doc: Document<TData, TVars>,
  vars: (taskId: string) => TVars,
): Operation {
  return {
    field,
    writes,
    async run(key, taskId) {
      const res = await h.request(doc, vars(taskId), { key });
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      return (res.body.data as Record<string, Answer>)[field]!;
    },
  };
}

/** Every task operation. */
const operations: Operation[] = [
  operation('task', false, TaskDocument, (id) => ({ id })),
  operation('tasks', false, TasksDocument, () => ({})),
  operation('createTask', true, CreateTaskDocument, () => ({
    input: { name: 'n', api: 'PDF', query: 'url=x', frequency: 'EVERY_DAY' } as const,
  })),
  operation('deleteTask', true, DeleteTaskDocument, (id) => ({ id })),
  operation('cancelSchedule', true, CancelScheduleDocument, (id) => ({ id })),
  operation('deleteTasks', true, DeleteTasksDocument, (id) => ({ ids: [id] })),
];

const run = (op: Operation, key: string | undefined, taskId: string) => op.run(key, taskId);

/** Fresh state per case: the window moves on so earlier cases do not count. */
function nextWindow() {
  h.clock.advance(h.limits.windowSeconds + 1);
}

describe.each(operations)('$field', (op) => {
  it('answers Unauthorized without a key, with an unknown key and with a revoked key', async () => {
    nextWindow();
    const { id, key } = await h.account();
    const taskId = await h.task(id);
    await h.db.transaction((tx) => revokeApiKey(tx, key, h.clock.now()));
    for (const k of [undefined, 'tsk_unknown', key]) {
      expect(await run(op, k, taskId)).toMatchObject({ __typename: 'Unauthorized', code: 'UNAUTHORIZED' });
    }
    expect(await h.db.read.task.count({ where: { accountId: id } })).toBe(1);
  });

  it('answers PaymentRequired UNPAID_INVOICE before PLAN_UPGRADE_REQUIRED', async () => {
    nextWindow();
    const unpaidFree = await h.account({ plan: 'FREE', billing: 'UNPAID' });
    const paidGrowth = await h.account({ plan: 'GROWTH' });
    const t1 = await h.task(unpaidFree.id);
    const t2 = await h.task(paidGrowth.id);
    expect(await run(op, unpaidFree.key, t1)).toMatchObject({
      __typename: 'PaymentRequired',
      code: 'PAYMENT_REQUIRED',
      reason: 'UNPAID_INVOICE',
    });
    expect(await run(op, paidGrowth.key, t2)).toMatchObject({
      __typename: 'PaymentRequired',
      reason: 'PLAN_UPGRADE_REQUIRED',
    });
    expect(await h.db.read.task.count({ where: { id: { in: [t1, t2] } } })).toBe(2);
    expect(await h.quotaUsed(unpaidFree.id)).toBe(0);
  });

  it('answers RateLimited past the account limit, before QuotaExceeded', async () => {
    nextWindow();
    const { id, key } = await h.account({ quotaLimit: 0 });
    const taskId = await h.task(id);
    for (let i = 0; i < h.limits.accountMax; i++) {
      // Admitted by the limiter; writes then meet the empty quota.
      const answer = await run(op, key, taskId);
      expect(answer.__typename).toBe(op.writes ? 'QuotaExceeded' : op.field === 'tasks' ? 'TaskConnection' : 'Task');
    }
    h.clock.advance(10);
    expect(await run(op, key, taskId)).toEqual({
      __typename: 'RateLimited',
      code: 'RATE_LIMITED',
      message: expect.stringContaining('retry in 50s'),
      scope: 'ACCOUNT',
      limit: 3,
      windowSeconds: 60,
      retryAfterSeconds: 50,
    });
  });

  if (op.writes) {
    it("answers QuotaExceeded before the operation's own errors, consuming nothing", async () => {
      nextWindow();
      const { id, key } = await h.account({ quotaLimit: 2, quotaUsed: 2 });
      // Even for an id that does not exist: the quota is checked first.
      expect(await run(op, key, 'missing')).toMatchObject({
        __typename: 'QuotaExceeded',
        code: 'QUOTA_EXCEEDED',
        limit: 2,
        used: 2,
      });
      expect(await h.quotaUsed(id)).toBe(2);
    });
  }
});

describe("the caller's API key", () => {
  it('is accepted from X-Access-Key, Authorization: Bearer and the access_key query parameter', async () => {
    nextWindow();
    const { key } = await h.account({ name: 'keyed' });
    const viewerName = async (init: RequestInit & { url?: string }) => {
      const res = await h.app.fetch(init.url ?? 'http://localhost/graphql', {
        method: 'POST',
        ...init,
        headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
        body: JSON.stringify({ query: print(ViewerDocument) }),
      });
      return ((await res.json()) as { data: { viewer: { name?: string; __typename: string } } }).data.viewer;
    };
    expect((await viewerName({ headers: { 'X-Access-Key': key } })).name).toBe('keyed');
    expect((await viewerName({ headers: { Authorization: `Bearer ${key}` } })).name).toBe('keyed');
    expect((await viewerName({ url: `http://localhost/graphql?access_key=${encodeURIComponent(key)}` })).name).toBe(
      'keyed',
    );
    expect((await viewerName({ headers: { Authorization: `Basic ${key}` } })).__typename).toBe('Unauthorized');
  });

  it('is stored hashed, never in plain text', async () => {
    const { id, key } = await h.account();
    const [stored] = await h.db.read.apiKey.findMany({ where: { accountId: id } });
    expect(stored!.keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(key.slice(10));
  });
});

describe('isolation between accounts', () => {
  it("never shows, changes or counts another account's tasks", async () => {
    nextWindow();
    const a = await h.account({ name: 'a' });
    const b = await h.account({ name: 'b' });
    const aTask = await h.task(a.id, { id: 'iso-a' });
    await h.task(b.id, { id: 'iso-b' });
    const listB = narrow((await h.gql(TasksDocument, {}, b.key)).tasks, 'TaskConnection');
    expect(listB.edges.map((e) => e.node.id)).toEqual(['iso-b']);
    narrow((await h.gql(CancelScheduleDocument, { id: aTask }, b.key)).cancelSchedule, 'NotFound');
    const batch = narrow((await h.gql(DeleteTasksDocument, { ids: [aTask] }, b.key)).deleteTasks, 'DeleteTasksSuccess');
    narrow(batch.results[0]!.outcome, 'NotFound');
    expect((await h.db.read.task.findUniqueOrThrow({ where: { id: aTask } })).status).toBe('ACTIVE');
    // Rate limits are per account: b's use leaves a's budget whole.
    expect(narrow((await h.gql(ViewerDocument, {}, a.key)).viewer, 'Account').rateLimit.remaining).toBe(3);
  });
});

describe('viewer', () => {
  it('answers Unauthorized without a key', async () => {
    nextWindow();
    narrow((await h.gql(ViewerDocument, {})).viewer, 'Unauthorized');
  });

  it('is never counted, so it answers while the account is limited and says when it may go on', async () => {
    nextWindow();
    const { key } = await h.account();
    for (let i = 0; i < 5; i++) narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account');
    for (let i = 0; i < 3; i++) narrow((await h.gql(TasksDocument, {}, key)).tasks, 'TaskConnection');
    narrow((await h.gql(TasksDocument, {}, key)).tasks, 'RateLimited');
    const { rateLimit } = narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account');
    expect(rateLimit).toMatchObject({ limit: 3, remaining: 0 });
    expect(Date.parse(rateLimit.nextAdmissionAt)).toBeGreaterThan(h.clock.now());
  });
});
