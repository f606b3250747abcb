// Real clients over real HTTP: Apollo Client (InMemoryCache with the generated
// possibleTypes) and urql (Graphcache with the generated introspection).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelScheduleDocument,
  DeleteTaskDocument,
  DeleteTasksDocument,
  TaskDocument,
  type TaskQuery,
  TasksDocument,
} from '../src/generated/client/graphql.js';
import { createApolloClient } from './clients/apollo.js';
import { createUrqlClient } from './clients/urql.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';
import { type Listening, listen } from './helpers/socket.js';

let h: Harness;
let server: Listening;
let url: string;

beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 10 } });
  server = await listen(h.app);
  url = server.url;
});
afterEach(() => h.clock.advance(61));
afterAll(async () => {
  await server.close();
  await h.close();
});

/** What a frontend does with a task answer: an exhaustive switch on __typename. */
function render(task: TaskQuery['task']): string {
  if (!task) return 'unexpected error';
  switch (task.__typename) {
    case 'Task':
      return `${task.name} (${task.status})`;
    case 'NotFound':
      return `not found: ${task.code}`;
    case 'Unauthorized':
      return `sign in: ${task.code}`;
    case 'PaymentRequired':
      return `payment required: ${task.reason}`;
    case 'RateLimited':
      return `retry in ${task.retryAfterSeconds}s`;
    case 'ValidationError':
      return `invalid ${task.field}: ${task.code}`;
    default: {
      const unhandled: never = task;
      return unhandled;
    }
  }
}

async function scaleAccountWithTasks() {
  const account = await h.account();
  const [a, b, c] = (await h.tasks(account.id, [
    { name: 'alpha', status: 'ACTIVE' },
    { name: 'beta', status: 'PAUSED' },
    { name: 'gamma' },
  ])) as [string, string, string];
  return { ...account, a, b, c };
}

describe('Apollo Client', () => {
  it('reads a task and switches on __typename for every member, with the default errorPolicy', async () => {
    const { key, a } = await scaleAccountWithTasks();
    const free = await h.account({ plan: 'FREE' });
    const read = async (id: string, apiKey?: string) =>
      render(
        (await createApolloClient(url, apiKey).query({ query: TaskDocument, variables: { id } })).data?.task ?? null,
      );
    expect(await read(a, key)).toBe('alpha (ACTIVE)');
    expect(await read('missing', key)).toBe('not found: NOT_FOUND');
    expect(await read(a)).toBe('sign in: UNAUTHORIZED');
    expect(await read(a, free.key)).toBe('payment required: PLAN_UPGRADE_REQUIRED');
  });

  it('hits the rate limit and reads retryAfterSeconds', async () => {
    const { key, a } = await scaleAccountWithTasks();
    const client = createApolloClient(url, key);
    const answers: string[] = [];
    for (let i = 0; i < 11; i++) {
      const { data } = await client.query({ query: TaskDocument, variables: { id: a }, fetchPolicy: 'network-only' });
      answers.push(render(data?.task ?? null));
    }
    expect(answers.slice(0, 10).every((s) => s === 'alpha (ACTIVE)')).toBe(true);
    expect(answers[10]).toBe('retry in 60s');
  });

  it('evicts a deleted task: cached reads and lists stop returning it, with no refetch', async () => {
    const { key, a, b } = await scaleAccountWithTasks();
    const client = createApolloClient(url, key);
    await client.query({ query: TaskDocument, variables: { id: a } });
    await client.query({ query: TasksDocument, variables: {} });

    const { data } = await client.mutate({
      mutation: DeleteTaskDocument,
      variables: { id: a },
      update(cache, { data }) {
        if (data?.deleteTask?.__typename === 'DeleteTaskSuccess') {
          cache.evict({ id: cache.identify({ __typename: 'Task', id: data.deleteTask.deletedId }) });
          cache.gc();
        }
      },
    });
    expect(narrow(data?.deleteTask, 'DeleteTaskSuccess').deletedId).toBe(a);

    expect(client.readQuery({ query: TaskDocument, variables: { id: a } })).toBeNull();
    const list = narrow(client.readQuery({ query: TasksDocument, variables: {} })?.tasks, 'TaskConnection');
    expect(list.edges.map((e) => e.node.id)).not.toContain(a);
    expect(list.edges.map((e) => e.node.id)).toContain(b);
  });

  it('updates the cached task to CANCELLED from the cancelSchedule payload alone', async () => {
    const { key, b } = await scaleAccountWithTasks();
    const client = createApolloClient(url, key);
    await client.query({ query: TaskDocument, variables: { id: b } });
    const { data } = await client.mutate({ mutation: CancelScheduleDocument, variables: { id: b } });
    expect(narrow(data?.cancelSchedule, 'CancelScheduleSuccess')).toMatchObject({
      oldStatus: 'PAUSED',
      newStatus: 'CANCELLED',
    });
    const cached = client.readQuery({ query: TaskDocument, variables: { id: b } });
    expect(narrow(cached?.task, 'Task')).toMatchObject({ status: 'CANCELLED', enabled: false });
  });

  it('batch-deletes and reads per-item outcomes', async () => {
    const { key, a, c } = await scaleAccountWithTasks();
    const running = await h.task((await h.account()).id, { inProgress: true });
    const client = createApolloClient(url, key);
    const { data } = await client.mutate({
      mutation: DeleteTasksDocument,
      variables: { ids: [a, 'nope', c, running] },
    });
    const batch = narrow(data?.deleteTasks, 'DeleteTasksSuccess');
    expect(batch.deletedIds).toEqual([a, c]);
    expect(
      batch.results.map(({ id, outcome }) => [id, outcome.__typename, 'code' in outcome ? outcome.code : null]),
    ).toEqual([
      [a, 'TaskDeleted', null],
      ['nope', 'NotFound', 'NOT_FOUND'],
      [c, 'TaskDeleted', null],
      [running, 'NotFound', 'NOT_FOUND'],
    ]);
  });
});

describe('urql with Graphcache', () => {
  it('reads a task and switches on __typename for every member', async () => {
    const { key, a } = await scaleAccountWithTasks();
    const free = await h.account({ plan: 'FREE', billing: 'UNPAID' });
    const read = async (id: string, apiKey?: string) => {
      const result = await createUrqlClient(url, apiKey).query(TaskDocument, { id }).toPromise();
      expect(result.error).toBeUndefined();
      return render(result.data?.task ?? null);
    };
    expect(await read(a, key)).toBe('alpha (ACTIVE)');
    expect(await read('missing', key)).toBe('not found: NOT_FOUND');
    expect(await read(a)).toBe('sign in: UNAUTHORIZED');
    expect(await read(a, free.key)).toBe('payment required: UNPAID_INVOICE');
  });

  it('hits the rate limit and reads retryAfterSeconds', async () => {
    const { key, a } = await scaleAccountWithTasks();
    const client = createUrqlClient(url, key);
    let last = '';
    for (let i = 0; i < 11; i++) {
      const result = await client.query(TaskDocument, { id: a }, { requestPolicy: 'network-only' }).toPromise();
      last = render(result.data?.task ?? null);
    }
    expect(last).toBe('retry in 60s');
  });

  it('drops a deleted task from the cache through the Graphcache update, with no refetch', async () => {
    const { key, a, b } = await scaleAccountWithTasks();
    const client = createUrqlClient(url, key);
    await client.query(TaskDocument, { id: a }).toPromise();
    await client.query(TasksDocument, {}).toPromise();
    const deleted = await client.mutation(DeleteTaskDocument, { id: a }).toPromise();
    expect(narrow(deleted.data?.deleteTask, 'DeleteTaskSuccess').deletedId).toBe(a);

    const cachedTask = await client.query(TaskDocument, { id: a }, { requestPolicy: 'cache-only' }).toPromise();
    expect(cachedTask.data?.task ?? null).toBeNull();
    const cachedList = await client.query(TasksDocument, {}, { requestPolicy: 'cache-only' }).toPromise();
    const ids = narrow(cachedList.data?.tasks, 'TaskConnection').edges.map((e) => e.node.id);
    expect(ids).not.toContain(a);
    expect(ids).toContain(b);
  });

  it('updates the cached task to CANCELLED from the cancelSchedule payload alone', async () => {
    const { key, b } = await scaleAccountWithTasks();
    const client = createUrqlClient(url, key);
    await client.query(TaskDocument, { id: b }).toPromise();
    const cancelled = await client.mutation(CancelScheduleDocument, { id: b }).toPromise();
    narrow(cancelled.data?.cancelSchedule, 'CancelScheduleSuccess');
    const cached = await client.query(TaskDocument, { id: b }, { requestPolicy: 'cache-only' }).toPromise();
    expect(narrow(cached.data?.task, 'Task')).toMatchObject({ status: 'CANCELLED', enabled: false });
  });

  it('batch-deletes and reads per-item outcomes', async () => {
    const { key, a, b } = await scaleAccountWithTasks();
    const client = createUrqlClient(url, key);
    const result = await client.mutation(DeleteTasksDocument, { ids: [a, b, 'nope'], atomic: true }).toPromise();
    const batch = narrow(result.data?.deleteTasks, 'DeleteTasksAborted');
    expect(batch.code).toBe('BATCH_ABORTED');
    expect(batch.results.map((r) => r.outcome.__typename)).toEqual(['BatchAborted', 'BatchAborted', 'NotFound']);
    // Nothing was deleted: both tasks still read from the server.
    for (const id of [a, b]) {
      const read = await client.query(TaskDocument, { id }, { requestPolicy: 'network-only' }).toPromise();
      narrow(read.data?.task, 'Task');
    }
  });
});
