// Live events in real frontend clients over a real socket, each set up as
// test/clients/*.ts sets it up (the README quotes those setups):
//  - urql + Graphcache with subscriptionExchange over graphql-ws;
//  - urql + Graphcache with subscriptions over GraphQL over SSE (fetchSubscriptions);
//  - Apollo Client with GraphQLWsLink split from HttpLink.
// Each receives TaskChanged (CREATED, UPDATED, PAUSED, RESUMED), RunStarted,
// RunFinished and TaskDeleted in order while ANOTHER client (plain HTTP) makes
// the changes, and its cache follows from the events alone: a cache-only read
// and a watched query of the task show each new state, a deleted task leaves
// the cache and cached lists. Runs are started by runTask and by the
// dispatcher (a scheduled run) against a real executor. Refused subscribes
// (no key, unpaid plan, the 21st open subscription) are one typed member and
// then completion, never a transport error; when the server ends every
// stream (what SIGTERM does) each client sees completion (but urql over SSE,
// for a stream that had no event yet: see the last test).
//
// `wonka` (urql's stream library, a dependency of @urql/core) is imported
// only to see a urql stream end; the setups themselves do not need it.
import type { ApolloClient } from '@apollo/client';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Client } from '@urql/core';
import { print } from 'graphql';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { onEnd, pipe, subscribe } from 'wonka';
import WebSocket from 'ws';
import {
  CreateTaskDocument,
  DeleteTaskDocument,
  PauseScheduleDocument,
  ResumeScheduleDocument,
  RunTaskDocument,
  TaskDocument,
  TaskEventsDocument,
  type TaskEventsSubscription,
  type TaskQuery,
  TaskRunsDocument,
  TasksDocument,
  UpdateTaskDocument,
} from '../src/generated/client/graphql.js';
import { createWebSocketDoor, type WebSocketDoor } from '../src/http/websocket.js';
import { createLogger } from '../src/logger.js';
import { insertApiKey } from '../src/services/accounts.js';
import { createApolloWsClient, subscribeToTaskEvents } from './clients/apollo.js';
import { createUrqlSseClient, createUrqlWsClient } from './clients/urql.js';
import { type Delivery, type Executor, startExecutor } from './helpers/executor.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';
import { type Listening, listen } from './helpers/socket.js';
import { until } from './helpers/until.js';

// Apollo's GraphQLWsLink reads the global WebSocket when a connection fails
// (@apollo/client 4.3.8, isLikeErrorEvent); Node 20 has none, so a failed
// connection would throw a ReferenceError (unhandled) and the subscription
// would never end. Browsers and Node 22 have one.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

type TaskEvent = NonNullable<TaskEventsSubscription['taskEvents']>;
type TaskResult = TaskQuery['task'];

let ex: Executor;
let h: Harness;
let door: WebSocketDoor;
let server: Listening;
/** HTTP requests received, by API key: a cache that follows events alone sends none. */
const httpRequestsBy = new Map<string, number>();

beforeAll(async () => {
  ex = await startExecutor();
  h = await createHarness({
    limits: { accountMax: 1000, scheduleMax: 1000 },
    // A generous timeout: a test holds the executor's answer while it looks at the cache.
    runs: { executorUrl: ex.url, executorSecret: ex.secret, retryBaseMs: 5, timeoutMs: 5_000 },
    dispatcher: true,
  });
  door = createWebSocketDoor(h.app, createLogger('silent'));
  server = await listen((req, res) => {
    const key = String(req.headers['x-access-key']);
    httpRequestsBy.set(key, (httpRequestsBy.get(key) ?? 0) + 1);
    void h.app(req, res);
  }, door);
});
afterAll(async () => {
  // As SIGTERM does: end every stream (SSE responses too), then close the door.
  h?.deps.subscriptions.endAll();
  await door?.close();
  await server?.close();
  await h?.close();
  await ex?.close();
});

// Monday 2026-06-15 12:00Z.
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
  // A failed test leaves nothing open (an SSE response would hold the server open).
  for (const s of opened.splice(0)) s.stop();
  await h.dispatcher!.idle();
  const said = [...warn.mock.calls, ...error.mock.calls];
  warn.mockRestore();
  error.mockRestore();
  expect(said).toEqual([]);
});

// ---------------------------------------------------------------------------
// The clients, behind one shape so every scenario runs on each.

/** Every stream a test opened, stopped after it. */
const opened: Stream[] = [];

/** One subscription as a client sees it. */
interface Stream {
  /** `data.taskEvents` of each result, in order. */
  events: TaskEvent[];
  /** Transport or GraphQL errors the client reported. */
  errors: string[];
  /** The client saw the stream end (completion, or an error). */
  ended: boolean;
  /** The client leaves. */
  stop(): void;
}

/** A client with a normalised cache, as a page holds it. */
interface Connected {
  subscribe(ids?: string[]): Stream;
  /** A page reads the task (network on first read, then the cache). */
  read(id: string): Promise<TaskResult>;
  /** The task from the cache alone: never a request. */
  cached(id: string): Promise<TaskResult | null>;
  /** A page reads the task list. */
  list(): Promise<string[]>;
  /** Ids of the cached task list (cache alone). */
  cachedList(): Promise<string[] | null>;
  /** A page reads the task with its runs. */
  readRuns(id: string): Promise<void>;
  /** Whether the task-with-runs view is complete in the cache (cache alone). */
  runsCached(id: string): Promise<boolean>;
  /** A view that re-renders whenever the cached task changes. */
  watch(id: string): { latest: () => TaskResult | undefined; stop(): void };
}

interface Flavour {
  name: string;
  connect(key?: string): Connected;
}

const taskIdsOf = (tasks: unknown) =>
  narrow(tasks as { __typename: 'TaskConnection'; edges: { node: { id: string } }[] }, 'TaskConnection').edges.map(
    (e) => e.node.id,
  );

function urqlStream(client: Client, ids?: string[]): Stream {
  const stream: Stream = { events: [], errors: [], ended: false, stop: () => {} };
  // Wonka's pipe, not the source's own subscribe(): only it shows the end.
  const { unsubscribe } = pipe(
    client.subscription(TaskEventsDocument, { ids }),
    onEnd(() => {
      stream.ended = true;
    }),
    subscribe((result) => {
      if (result.error) stream.errors.push(result.error.message);
      // urql marks the end with a last result that repeats the last event with hasNext: false.
      else if (result.hasNext !== false) stream.events.push(result.data!.taskEvents!);
      else expect(result.data?.taskEvents).toEqual(stream.events.at(-1));
    }),
  );
  stream.stop = unsubscribe;
  opened.push(stream);
  return stream;
}

function urql(client: Client): Connected {
  const query = async <D, V extends object>(doc: TypedDocumentNode<D, V>, variables: V, cacheOnly = false) => {
    const result = await client
      .query(doc, variables, cacheOnly ? { requestPolicy: 'cache-only' } : undefined)
      .toPromise();
    expect(result.error).toBeUndefined();
    return result.data;
  };
  return {
    subscribe: (ids) => urqlStream(client, ids),
    read: async (id) => (await query(TaskDocument, { id }))?.task ?? null,
    cached: async (id) => (await query(TaskDocument, { id }, true))?.task ?? null,
    list: async () => taskIdsOf((await query(TasksDocument, {}))?.tasks),
    cachedList: async () => {
      const data = await query(TasksDocument, {}, true);
      return data ? taskIdsOf(data.tasks) : null;
    },
    readRuns: async (id) => void narrow((await query(TaskRunsDocument, { id }))?.task, 'Task'),
    runsCached: async (id) => (await query(TaskRunsDocument, { id }, true))?.task != null,
    watch: (id) => {
      let latest: TaskResult | undefined;
      const { unsubscribe } = client.query(TaskDocument, { id }).subscribe((r) => {
        latest = r.data?.task;
      });
      return { latest: () => latest, stop: unsubscribe };
    },
  };
}

function apollo(client: ApolloClient): Connected {
  return {
    subscribe: (ids) => {
      const stream: Stream = { events: [], errors: [], ended: false, stop: () => {} };
      const subscription = subscribeToTaskEvents(client, ids).subscribe({
        next: ({ data, error }) => {
          if (error) stream.errors.push(error.message);
          else stream.events.push(data!.taskEvents!);
        },
        error: (e) => {
          stream.errors.push(String(e));
          stream.ended = true;
        },
        complete: () => {
          stream.ended = true;
        },
      });
      stream.stop = () => subscription.unsubscribe();
      opened.push(stream);
      return stream;
    },
    read: async (id) => (await client.query({ query: TaskDocument, variables: { id } })).data?.task ?? null,
    cached: async (id) => client.readQuery({ query: TaskDocument, variables: { id } })?.task ?? null,
    list: async () => taskIdsOf((await client.query({ query: TasksDocument, variables: {} })).data?.tasks),
    cachedList: async () => {
      const data = client.readQuery({ query: TasksDocument, variables: {} });
      return data ? taskIdsOf(data.tasks) : null;
    },
    readRuns: async (id) =>
      void narrow((await client.query({ query: TaskRunsDocument, variables: { id } })).data?.task, 'Task'),
    runsCached: async (id) => client.readQuery({ query: TaskRunsDocument, variables: { id } }) != null,
    watch: (id) => {
      let latest: TaskResult | undefined;
      const subscription = client.watchQuery({ query: TaskDocument, variables: { id } }).subscribe((r) => {
        if (r.dataState === 'complete') latest = r.data.task;
      });
      return { latest: () => latest, stop: () => subscription.unsubscribe() };
    },
  };
}

const FLAVOURS: Flavour[] = [
  { name: 'urql over WebSocket', connect: (key) => urql(createUrqlWsClient(server.url, server.wsUrl, key)) },
  { name: 'urql over SSE', connect: (key) => urql(createUrqlSseClient(server.url, key)) },
  { name: 'Apollo over WebSocket', connect: (key) => apollo(createApolloWsClient(server.url, server.wsUrl, key)) },
];

// ---------------------------------------------------------------------------

/** Another client (another tab, a script): plain HTTP, no cache. */
async function other<D, V>(doc: TypedDocumentNode<D, V>, variables: V, key: string): Promise<D> {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-access-key': key },
    body: JSON.stringify({ query: print(doc), variables }),
  });
  const body = (await res.json()) as { data?: D; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data!;
}

/** Waits for the stream's n-th event and returns it. */
async function nth(stream: Stream, n: number): Promise<TaskEvent> {
  await until(`event ${n}`, () => stream.events.length >= n || stream.ended);
  expect(stream.errors).toEqual([]);
  expect(stream.events.length, JSON.stringify(stream.events)).toBeGreaterThanOrEqual(n);
  return stream.events[n - 1]!;
}

/**
 * The executor holds its next answer for this task until the test releases
 * it (tasks of other tests that are due meanwhile are answered at once).
 */
function holdNextAnswerFor(taskId: string) {
  let arrived!: (d: Delivery) => void;
  const arrival = new Promise<Delivery>((resolve) => {
    arrived = resolve;
  });
  let release!: (status: number) => void;
  const released = new Promise<number>((resolve) => {
    release = resolve;
  });
  ex.answer(async (d, res) => {
    if (d.taskId !== taskId) return void res.writeHead(200).end();
    arrived(d);
    res.writeHead(await released).end();
  });
  return { arrival, release };
}

const live = (accountId: string, n: number) =>
  until(`${n} live subscription(s)`, () => h.deps.events.listenerCount(accountId) === n);
const allClosed = (accountId: string) =>
  until(
    'every subscription closed on the server',
    () => h.deps.events.listenerCount(accountId) === 0 && h.deps.subscriptions.count(accountId) === 0,
  );

for (const flavour of FLAVOURS) {
  describe(flavour.name, () => {
    it.each(['runTask', 'a scheduled run'] as const)(
      'receives every event in order (run by %s); the cache follows each from the event alone',
      async (trigger) => {
        const { id: accountId, key } = await h.account();
        // The other client has a key of its own, so the requests of each are told apart.
        const otherKey = await h.db.transaction((tx) => insertApiKey(tx, accountId));
        const me = flavour.connect(key);
        const stream = me.subscribe();
        await live(accountId, 1);

        // CREATED: the event carries the whole task.
        const input = { name: 'nightly', api: 'SCREENSHOT', query: 'url=https%3A%2F%2Fexample.com' } as const;
        const created = narrow(
          (await other(CreateTaskDocument, { input: { ...input, frequency: 'EVERY_DAY' } }, otherKey)).createTask,
          'CreateTaskSuccess',
        ).task;
        const id = created.id;
        // (urql returns __typename only where the operation selects it; Apollo adds it everywhere.)
        expect(await nth(stream, 1)).toMatchObject({ __typename: 'TaskChanged', change: 'CREATED', task: created });

        // A page shows the task and the list (one read each), and keeps watching the task.
        expect(narrow(await me.read(id), 'Task')).toEqual({ ...created, __typename: 'Task' });
        expect(await me.list()).toEqual([id]);
        await me.readRuns(id);
        const view = me.watch(id);
        await until('the view shows the task', () => view.latest()?.__typename === 'Task');
        const requestsSoFar = httpRequestsBy.get(key);
        const shows = (what: string, fields: Record<string, unknown>) =>
          until(`the watched view to show ${what}`, () => {
            const task = view.latest();
            return task?.__typename === 'Task' && Object.entries(fields).every(([k, v]) => task[k as 'id'] === v);
          });

        // UPDATED, by another client: the cached task has the new name.
        await other(UpdateTaskDocument, { id, input: { name: 'renamed' } }, otherKey);
        expect(await nth(stream, 2)).toMatchObject({
          __typename: 'TaskChanged',
          change: 'UPDATED',
          task: { id, name: 'renamed', version: 2 },
        });
        expect(narrow(await me.cached(id), 'Task')).toMatchObject({ name: 'renamed', version: 2, status: 'ACTIVE' });
        await shows('the new name', { name: 'renamed' });

        // PAUSED, by another client: the cache shows PAUSED without a refetch.
        await other(PauseScheduleDocument, { id }, otherKey);
        expect(await nth(stream, 3)).toMatchObject({
          __typename: 'TaskChanged',
          change: 'PAUSED',
          task: { id, status: 'PAUSED', enabled: false, nextRunAt: null },
        });
        expect(narrow(await me.cached(id), 'Task')).toMatchObject({
          status: 'PAUSED',
          enabled: false,
          nextRunAt: null,
        });
        await shows('PAUSED', { status: 'PAUSED' });

        // RESUMED: ACTIVE again, next run planned.
        await other(ResumeScheduleDocument, { id }, otherKey);
        const resumed = await nth(stream, 4);
        expect(resumed).toMatchObject({
          __typename: 'TaskChanged',
          change: 'RESUMED',
          task: { id, status: 'ACTIVE', enabled: true, nextRunAt: '2026-06-16T00:00:00.000Z' },
        });
        expect(narrow(await me.cached(id), 'Task')).toMatchObject({
          status: 'ACTIVE',
          nextRunAt: '2026-06-16T00:00:00.000Z',
        });
        await shows('ACTIVE', { status: 'ACTIVE' });

        // A run starts; the executor holds it.
        const held = holdNextAnswerFor(id);
        if (trigger === 'runTask') {
          narrow((await other(RunTaskDocument, { id }, otherKey)).runTask, 'RunTaskSuccess');
        } else {
          h.clock.ms = Date.parse('2026-06-16T00:00:00.200Z');
          expect((await h.dispatcher!.tick()).started).toBeGreaterThanOrEqual(1);
        }
        const started = await nth(stream, 5);
        const run = narrow(started, 'RunStarted').run;
        expect(started).toMatchObject({
          run: {
            taskId: id,
            trigger: trigger === 'runTask' ? 'MANUAL' : 'SCHEDULE',
            outcome: 'RUNNING',
            finishedAt: null,
          },
          task: { id, inProgress: true, runs: 1, lastRunAt: run.startedAt },
        });
        expect(narrow(await me.cached(id), 'Task')).toMatchObject({
          inProgress: true,
          runs: 1,
          lastRunAt: run.startedAt,
        });
        await shows('the run in progress', { inProgress: true });
        // The new run heads the task's history: the cached page of it is dropped (it refetches).
        expect(await me.runsCached(id)).toBe(false);

        // The run ends.
        expect((await held.arrival).runId).toBe(run.id);
        held.release(200);
        await h.dispatcher!.idle();
        expect(await nth(stream, 6)).toMatchObject({
          __typename: 'RunFinished',
          run: { id: run.id, outcome: 'SUCCEEDED', attempts: 1, httpStatus: 200 },
          task: { id, inProgress: false, runs: 1 },
        });
        expect(narrow(await me.cached(id), 'Task')).toMatchObject({ inProgress: false, runs: 1 });
        await shows('the run ended', { inProgress: false });

        // DELETED, by another client: the task leaves the cache and the cached list.
        // (The page leaves first: a view still watching the task would refetch it
        // from the server once it left the cache, and show NotFound.)
        view.stop();
        await other(DeleteTaskDocument, { id }, otherKey);
        expect(await nth(stream, 7)).toEqual({ __typename: 'TaskDeleted', taskId: id });
        expect(await me.cached(id)).toBeNull();
        expect(await me.cachedList()).toEqual([]);

        expect(stream.events.map((e) => ('change' in e ? `${e.__typename} ${e.change}` : e.__typename))).toEqual([
          'TaskChanged CREATED',
          'TaskChanged UPDATED',
          'TaskChanged PAUSED',
          'TaskChanged RESUMED',
          'RunStarted',
          'RunFinished',
          'TaskDeleted',
        ]);
        expect(stream.errors).toEqual([]);
        expect(stream.ended).toBe(false);
        // Not one request from this client since its first reads: every change came from an event.
        expect(httpRequestsBy.get(key)).toBe(requestsSoFar);
        // Leaving ends the subscription on the server.
        stream.stop();
        await allClosed(accountId);
      },
    );

    it('without a key: an Unauthorized member, then completion (no transport error)', async () => {
      const stream = flavour.connect().subscribe();
      await until('the refusal to end', () => stream.ended);
      expect(stream.errors).toEqual([]);
      expect(stream.events).toEqual([
        { __typename: 'Unauthorized', code: 'UNAUTHORIZED', message: expect.any(String) },
      ]);
    });

    it('an unpaid account: a PaymentRequired member, then completion', async () => {
      const { id: accountId, key } = await h.account({ plan: 'FREE', billing: 'UNPAID' });
      const stream = flavour.connect(key).subscribe();
      await until('the refusal to end', () => stream.ended);
      expect(stream.errors).toEqual([]);
      expect(stream.events).toEqual([
        {
          __typename: 'PaymentRequired',
          code: 'PAYMENT_REQUIRED',
          reason: 'UNPAID_INVOICE',
          message: expect.any(String),
        },
      ]);
      expect(h.deps.subscriptions.count(accountId)).toBe(0);
    });

    it('the 21st open subscription of an account (default cap 20): a RateLimited member, then completion', async () => {
      const { id: accountId, key } = await h.account();
      const me = flavour.connect(key);
      const taskId = await h.task(accountId);
      // Distinct variables: both clients share one server subscription between identical ones.
      const open = Array.from({ length: 20 }, (_, i) => me.subscribe([i === 7 ? taskId : `${taskId}-${i}`]));
      await live(accountId, 20);
      expect(h.deps.subscriptions.count(accountId)).toBe(20);

      const refused = me.subscribe([`${taskId}-20`]);
      await until('the refusal to end', () => refused.ended);
      expect(refused.errors).toEqual([]);
      expect(refused.events).toEqual([
        {
          __typename: 'RateLimited',
          code: 'RATE_LIMITED',
          message: expect.stringContaining('At most 20 subscriptions'),
          scope: 'ACCOUNT',
          limit: 20,
          windowSeconds: 0,
          retryAfterSeconds: 1,
        },
      ]);
      // The open ones are untouched, and an event still reaches the one it concerns.
      expect(open.filter((s) => s.ended || s.errors.length > 0)).toEqual([]);
      await other(PauseScheduleDocument, { id: taskId }, key);
      expect(await nth(open[7]!, 1)).toMatchObject({ __typename: 'TaskChanged', change: 'PAUSED' });
      expect(open.filter((s, i) => i !== 7 && s.events.length > 0)).toEqual([]);

      for (const s of open) s.stop();
      await allClosed(accountId);
      // Room again.
      const again = me.subscribe([`${taskId}-21`]);
      await live(accountId, 1);
      again.stop();
      await allClosed(accountId);
    });
  });
}

describe('urql over SSE', () => {
  it('is GraphQL over SSE: a POST with Accept: text/event-stream and the key header, answered as an event stream', async () => {
    const { id: accountId, key } = await h.account();
    const fetches = vi.spyOn(globalThis, 'fetch');
    try {
      const stream = urql(createUrqlSseClient(server.url, key)).subscribe();
      await live(accountId, 1);
      const [[url, init]] = fetches.mock.calls as [[string, RequestInit]];
      expect(url).toBe(server.url);
      expect(init).toMatchObject({ method: 'POST', headers: { accept: 'text/event-stream, multipart/mixed' } });
      expect((init.headers as Record<string, string>)['x-access-key']).toBe(key);
      const response = await fetches.mock.results[0]!.value;
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      stream.stop();
      await allClosed(accountId);
    } finally {
      fetches.mockRestore();
    }
  });
});

describe('server shutdown', () => {
  // Its own app: once its streams are ended, an app admits no more subscriptions.
  let app: Harness;
  let appDoor: WebSocketDoor;
  let appServer: Listening;
  beforeAll(async () => {
    app = await createHarness();
    appDoor = createWebSocketDoor(app.app, createLogger('silent'));
    appServer = await listen(app.app, appDoor);
  });
  afterAll(async () => {
    app?.deps.subscriptions.endAll();
    await appDoor?.close();
    await appServer?.close();
    await app?.close();
  });

  it('ending every stream (what SIGTERM does) completes each client’s subscriptions; then the door closes', async () => {
    const { id: accountId, key } = await app.account();
    const clients = {
      'urql over WebSocket': urql(createUrqlWsClient(appServer.url, appServer.wsUrl, key)),
      'urql over SSE': urql(createUrqlSseClient(appServer.url, key)),
      'Apollo over WebSocket': apollo(createApolloWsClient(appServer.url, appServer.wsUrl, key)),
    };
    // Each client holds a stream that has had an event and one that has had none.
    const streams = Object.entries(clients).flatMap(([name, c]) => [
      { name: `${name}, after an event`, stream: c.subscribe() },
      { name: `${name}, before any event`, stream: c.subscribe(['none']) },
    ]);
    await until('6 live subscriptions', () => app.deps.events.listenerCount(accountId) === 6);
    await app.gql(
      CreateTaskDocument,
      { input: { name: 'x', api: 'PDF', query: 'url=https%3A%2F%2Fexample.com', frequency: 'EVERY_DAY' } },
      key,
    );
    await until('the event at every client', () =>
      streams.every((s, i) => i % 2 === 1 || s.stream.events.length === 1),
    );

    app.deps.subscriptions.endAll();
    await until('every client to see the end', () => streams.every((s) => s.stream.ended));
    expect(
      Object.fromEntries(streams.map(({ name, stream }) => [name, [stream.events.length, stream.errors]])),
    ).toEqual({
      'urql over WebSocket, after an event': [1, []],
      'urql over WebSocket, before any event': [0, []],
      // urql's fetchExchange reports a response that ends with no result at all
      // as an error (a subscription over SSE ended before its first event).
      'urql over SSE, after an event': [1, []],
      'urql over SSE, before any event': [0, ['[Network] No Content']],
      'Apollo over WebSocket, after an event': [1, []],
      'Apollo over WebSocket, before any event': [0, []],
    });
    expect(app.deps.events.listenerCount(accountId)).toBe(0);
    expect(app.deps.subscriptions.count(accountId)).toBe(0);
    // Then the door closes (what SIGTERM does next): no client's operation is left on a socket.
    await appDoor.close();
  });
});
