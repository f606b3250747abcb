// A cache of parsed and validated documents must change nothing but speed
// (one that forgot the operation name once ran a mutation when a query was
// asked). Two apps over two identical databases — one with yoga's document
// cache, one parsing and validating every request afresh — receive the same
// sequence of requests (every shipped operation on its success and error
// paths, variable mistakes, several operations in one document asked by
// name over POST and GET, aliases, fragments, directives, introspection, rate
// limits); every answer must be byte for byte the same, headers included.
//
// The same comparison against graphql-jit's compiled executor is why this
// server no longer uses it: jit ordered fields spread from fragments
// differently from the selection (the spec's order) and dropped `locations`
// and the expected type from variable errors.

import { Writable } from 'node:stream';
import { getIntrospectionQuery, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { NO_EXECUTOR } from '../src/config.js';
import { type Database, openDatabase } from '../src/db/client.js';
import {
  CancelScheduleDocument,
  CreateTaskDocument,
  DeleteTaskDocument,
  DeleteTasksDocument,
  TaskDocument,
  TasksDocument,
  ViewerDocument,
} from '../src/generated/client/graphql.js';
import { createLogger } from '../src/logger.js';
import { hashApiKey } from '../src/services/api-keys.js';
import { MemoryEventBus } from '../src/services/events/memory-bus.js';
import { Subscriptions } from '../src/services/events/subscriptions.js';
import { MemoryRateLimiter } from '../src/services/rate-limit.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { DEFAULT_LIMITS, TestClock } from './helpers/harness.js';

const KEYS = { scale: 'key-scale-0123456789', free: 'key-free-0123456789', empty: 'key-empty-0123456789' };

interface Side {
  app: App;
  db: Database;
  testDb: TestDatabase;
}

/** One app over its own database, seeded exactly like the other side's. */
async function side(documentCache: boolean): Promise<Side> {
  const testDb = await createTestDatabase();
  const db = await openDatabase(testDb.url);
  const clock = new TestClock();
  let seq = 0;
  const deps = {
    db,
    clock,
    rateLimiter: new MemoryRateLimiter(),
    limits: { ...DEFAULT_LIMITS, accountMax: 200, scheduleMax: 3 },
    runs: NO_EXECUTOR,
    events: new MemoryEventBus(),
    subscriptions: new Subscriptions(),
    newTaskId: () => `new-${++seq}`,
  };
  const quiet = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }));
  const app = createApp({ deps, logger: quiet, graphiql: false, documentCache });
  await db.transaction(async (tx) => {
    const accounts = [
      { id: 'acct-scale', name: 'scale', plan: 'SCALE' as const, quotaLimit: 1000, key: KEYS.scale },
      { id: 'acct-free', name: 'free', plan: 'FREE' as const, quotaLimit: 1000, key: KEYS.free },
      { id: 'acct-empty', name: 'empty', plan: 'SCALE' as const, quotaLimit: 0, key: KEYS.empty },
    ];
    for (const a of accounts) {
      await tx.account.create({
        data: { id: a.id, name: a.name, plan: a.plan, quotaLimit: a.quotaLimit, createdAt: new Date(clock.now()) },
      });
      await tx.apiKey.create({ data: { id: `k-${a.id}`, accountId: a.id, keyHash: hashApiKey(a.key), prefix: 'key' } });
    }
    const task = (id: string, rest: Record<string, unknown> = {}) => ({
      id,
      accountId: 'acct-scale',
      name: `task ${id}`,
      api: 'SCREENSHOT' as const,
      query: 'url=x',
      frequency: 'EVERY_DAY' as const,
      crontab: '0 0 * * *',
      timezone: 'Europe/Paris',
      createdAt: new Date(clock.now() - Number(id.replace(/\D/g, '') || 0) * 1000),
      ...rest,
    });
    await tx.task.createMany({
      data: [
        task('t1'),
        task('t2', { status: 'PAUSED' }),
        task('t3', { inProgress: true }),
        task('t4', { status: 'CANCELLED' }),
        task('t5', { api: 'PDF' }),
        task('t6'),
        task('t7'),
        task('t8'),
      ],
    });
  });
  return { app, db, testDb };
}

interface Call {
  name: string;
  query: string;
  variables?: unknown;
  operationName?: string;
  key?: string;
  method?: 'GET' | 'POST';
}

const doc = (d: Parameters<typeof print>[0]) => print(d);

const MULTI = `mutation Create($name: String!) {
  createTask(input: {name: $name, api: SCRAPE, query: "url=m", frequency: EVERY_HOUR}) {
    __typename ... on CreateTaskSuccess { task { id name } } ... on Error { code }
  }
}
query Me { viewer { __typename ... on Account { name plan } } }
query One { task(id: "t1") { __typename ... on Task { id status } } }`;

const CALLS: Call[] = [
  // Reads, every member of TaskResult.
  { name: 'task', query: doc(TaskDocument), variables: { id: 't1' }, key: KEYS.scale },
  { name: 'task paused', query: doc(TaskDocument), variables: { id: 't2' }, key: KEYS.scale },
  { name: 'task missing', query: doc(TaskDocument), variables: { id: 'nope' }, key: KEYS.scale },
  { name: 'task long id', query: doc(TaskDocument), variables: { id: 'x'.repeat(65) }, key: KEYS.scale },
  { name: 'task no key', query: doc(TaskDocument), variables: { id: 't1' } },
  { name: 'task unknown key', query: doc(TaskDocument), variables: { id: 't1' }, key: 'tsk_unknown' },
  { name: 'task free plan', query: doc(TaskDocument), variables: { id: 't1' }, key: KEYS.free },
  { name: 'tasks page', query: doc(TasksDocument), variables: { first: 3 }, key: KEYS.scale },
  {
    name: 'tasks filtered',
    query: doc(TasksDocument),
    variables: { filter: { api: 'PDF', enabled: true } },
    key: KEYS.scale,
  },
  {
    name: 'tasks after',
    query: doc(TasksDocument),
    variables: {
      first: 2,
      after: Buffer.from(JSON.stringify([Date.UTC(2026, 5, 15, 11, 59, 58), 't2'])).toString('base64url'),
    },
    key: KEYS.scale,
  },
  { name: 'tasks first 101', query: doc(TasksDocument), variables: { first: 101 }, key: KEYS.scale },
  { name: 'tasks bad cursor', query: doc(TasksDocument), variables: { after: 'zzz' }, key: KEYS.scale },
  { name: 'viewer', query: doc(ViewerDocument), key: KEYS.scale },
  { name: 'viewer free', query: doc(ViewerDocument), key: KEYS.free },
  // Mutations, success and every error.
  {
    name: 'create',
    query: doc(CreateTaskDocument),
    variables: {
      input: {
        name: ' Nightly ',
        api: 'PDF',
        query: '?url=a',
        frequency: 'CUSTOM',
        crontab: '0 2 * * 1-5',
        timezone: 'europe/paris',
      },
    },
    key: KEYS.scale,
  },
  {
    name: 'create bad cron',
    query: doc(CreateTaskDocument),
    variables: { input: { name: 'x', api: 'PDF', query: 'u=1', frequency: 'CUSTOM', crontab: '99 * * * *' } },
    key: KEYS.scale,
  },
  {
    name: 'create bad zone',
    query: doc(CreateTaskDocument),
    variables: { input: { name: 'x', api: 'PDF', query: 'u=1', frequency: 'EVERY_DAY', timezone: 'Mars/Base' } },
    key: KEYS.scale,
  },
  {
    name: 'create access_key',
    query: doc(CreateTaskDocument),
    variables: { input: { name: 'x', api: 'PDF', query: 'access_key=1', frequency: 'EVERY_DAY' } },
    key: KEYS.scale,
  },
  {
    name: 'create no quota',
    query: doc(CreateTaskDocument),
    variables: { input: { name: 'x', api: 'PDF', query: 'u=1', frequency: 'EVERY_DAY' } },
    key: KEYS.empty,
  },
  { name: 'delete', query: doc(DeleteTaskDocument), variables: { id: 't6' }, key: KEYS.scale },
  { name: 'delete again', query: doc(DeleteTaskDocument), variables: { id: 't6' }, key: KEYS.scale },
  { name: 'delete running', query: doc(DeleteTaskDocument), variables: { id: 't3' }, key: KEYS.scale },
  { name: 'cancel', query: doc(CancelScheduleDocument), variables: { id: 't1' }, key: KEYS.scale },
  { name: 'cancel again', query: doc(CancelScheduleDocument), variables: { id: 't1' }, key: KEYS.scale },
  { name: 'cancel again 2', query: doc(CancelScheduleDocument), variables: { id: 't1' }, key: KEYS.scale },
  { name: 'cancel limited', query: doc(CancelScheduleDocument), variables: { id: 't1' }, key: KEYS.scale },
  {
    name: 'delete many',
    query: doc(DeleteTasksDocument),
    variables: { ids: ['t7', 't3', 'nope', 't7'] },
    key: KEYS.scale,
  },
  {
    name: 'delete many atomic aborted',
    query: doc(DeleteTasksDocument),
    variables: { ids: ['t8', 'nope'], atomic: true },
    key: KEYS.scale,
  },
  {
    name: 'delete many atomic',
    query: doc(DeleteTasksDocument),
    variables: { ids: ['t8'], atomic: true },
    key: KEYS.scale,
  },
  { name: 'delete many empty', query: doc(DeleteTasksDocument), variables: { ids: [] }, key: KEYS.scale },
  {
    name: 'delete many too many',
    query: doc(DeleteTasksDocument),
    variables: { ids: Array.from({ length: 1001 }, (_, i) => `id${i}`) },
    key: KEYS.scale,
  },
  // Several operations in one document: the named one runs, over POST and GET.
  { name: 'multi create', query: MULTI, operationName: 'Create', variables: { name: 'm' }, key: KEYS.scale },
  { name: 'multi me', query: MULTI, operationName: 'Me', key: KEYS.scale },
  { name: 'multi one', query: MULTI, operationName: 'One', key: KEYS.scale },
  { name: 'multi me GET', query: MULTI, operationName: 'Me', key: KEYS.scale, method: 'GET' },
  { name: 'multi create GET', query: MULTI, operationName: 'Create', key: KEYS.scale, method: 'GET' },
  { name: 'multi none', query: MULTI, key: KEYS.scale },
  { name: 'multi unknown', query: MULTI, operationName: 'Nope', key: KEYS.scale },
  { name: 'multi me again', query: MULTI, operationName: 'Me', key: KEYS.free },
  // Variable mistakes: named after the variable the client sent.
  { name: 'var wrong type', query: doc(TasksDocument), variables: { first: 'ten' }, key: KEYS.scale },
  { name: 'var missing', query: doc(TaskDocument), variables: {}, key: KEYS.scale },
  { name: 'var null', query: doc(TaskDocument), variables: { id: null }, key: KEYS.scale },
  { name: 'var list for ID', query: doc(TaskDocument), variables: { id: [1, [2]] }, key: KEYS.scale },
  { name: 'var long bad value', query: doc(TasksDocument), variables: { first: 'y'.repeat(5000) }, key: KEYS.scale },
  {
    name: 'var input missing field',
    query: doc(CreateTaskDocument),
    variables: { input: { name: 'x', api: 'PDF', frequency: 'EVERY_DAY' } },
    key: KEYS.scale,
  },
  {
    name: 'var input bad enum',
    query: doc(CreateTaskDocument),
    variables: { input: { name: 'x', api: 'FAX', query: 'u', frequency: 'EVERY_DAY' } },
    key: KEYS.scale,
  },
  {
    name: 'var input unknown field',
    query: doc(CreateTaskDocument),
    variables: { input: { name: 'x', api: 'PDF', query: 'u', frequency: 'EVERY_DAY', color: 'red' } },
    key: KEYS.scale,
  },
  { name: 'var extra', query: doc(ViewerDocument), variables: { unused: 1 }, key: KEYS.scale },
  // Selections: aliases, fragments, directives, literals, __typename, introspection.
  {
    name: 'aliases',
    query: `{ ${Array.from({ length: 25 }, (_, i) => `a${i}: task(id: "t${(i % 9) + 1}") { __typename ... on Task { id name nextRunAt } ... on Error { code message } }`).join(' ')} }`,
    key: KEYS.scale,
  },
  {
    name: 'fragments and directives',
    query: `query Q($with: Boolean!) {
      task(id: "t2") { ...F ... on Task @include(if: $with) { api } ... on Task @skip(if: $with) { query } }
      __typename
    }
    fragment F on Task { id crontab timezone nextRunAt t: __typename }`,
    variables: { with: true },
    key: KEYS.scale,
  },
  { name: 'typename only', query: '{ __typename }', key: KEYS.scale },
  { name: 'introspection', query: getIntrospectionQuery({ descriptions: true }) },
  {
    name: 'rate limited',
    query: `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: task(id: "t2") { __typename ... on RateLimited { retryAfterSeconds scope } }`).join(' ')} }`,
    key: KEYS.scale,
  },
  { name: 'viewer while limited', query: doc(ViewerDocument), key: KEYS.scale },
];

async function send(app: App, call: Call): Promise<string> {
  const headers: Record<string, string> = { accept: 'application/graphql-response+json, application/json' };
  if (call.key) headers['x-access-key'] = call.key;
  let res: Response;
  if (call.method === 'GET') {
    const url = new URL('http://localhost/graphql');
    url.searchParams.set('query', call.query);
    if (call.operationName) url.searchParams.set('operationName', call.operationName);
    if (call.variables) url.searchParams.set('variables', JSON.stringify(call.variables));
    res = await app.fetch(url, { headers });
  } else {
    res = await app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ query: call.query, variables: call.variables, operationName: call.operationName }),
    });
  }
  const shown = [...res.headers].filter(([name]) => !['date', 'x-request-id'].includes(name)).sort();
  return `${res.status}\n${JSON.stringify(shown)}\n${await res.text()}`;
}

let cached: Side;
let uncached: Side;
const answers = new Map<string, [string, string]>();

beforeAll(async () => {
  [cached, uncached] = await Promise.all([side(true), side(false)]);
  // In order (later calls see earlier changes), each call to both sides.
  for (const call of CALLS) answers.set(call.name, [await send(cached.app, call), await send(uncached.app, call)]);
});

afterAll(async () => {
  for (const s of [cached, uncached]) {
    await s.db.close();
    await s.testDb.drop();
  }
});

describe('with and without the document cache', () => {
  it.each(CALLS.map((c) => c.name))('answers "%s" byte for byte alike', (name) => {
    const [compiled, reference] = answers.get(name)!;
    expect(compiled).toBe(reference);
  });

  it('covers success, typed errors, request errors and refusals (the comparison is not vacuous)', () => {
    const statuses = new Set([...answers.values()].map(([a]) => a.split('\n')[0]));
    expect(statuses).toEqual(new Set(['200', '400', '405']));
    const all = [...answers.values()].map(([a]) => a).join('\n');
    for (const member of [
      'CreateTaskSuccess',
      'DeleteTaskSuccess',
      'CancelScheduleSuccess',
      'DeleteTasksSuccess',
      'DeleteTasksAborted',
      'NotFound',
      'InvalidStatus',
      'ValidationError',
      'PaymentRequired',
      'QuotaExceeded',
      'RateLimited',
      'Unauthorized',
      '"scope":"SCHEDULE"',
      'Variable \\"$first\\"',
    ]) {
      expect(all, member).toContain(member);
    }
  });
});

describe('several operations in one document', () => {
  const body = (name: string) =>
    JSON.parse(answers.get(name)![0].split('\n')[2]!) as { data?: Record<string, unknown> };

  it('runs the named operation, whichever ran first from the same document', () => {
    expect(body('multi create').data).toEqual({
      createTask: { __typename: 'CreateTaskSuccess', task: { id: expect.stringMatching(/^new-\d+$/), name: 'm' } },
    });
    expect(body('multi me').data).toEqual({ viewer: { __typename: 'Account', name: 'scale', plan: 'SCALE' } });
    expect(body('multi one').data).toEqual({ task: { __typename: 'Task', id: 't1', status: 'CANCELLED' } });
    expect(body('multi me GET').data).toEqual({ viewer: { __typename: 'Account', name: 'scale', plan: 'SCALE' } });
    // The cache is shared by every account: another account gets its own viewer.
    expect(body('multi me again').data).toEqual({ viewer: { __typename: 'Account', name: 'free', plan: 'FREE' } });
  });

  it('never runs a mutation over GET, and created exactly one task', async () => {
    expect(answers.get('multi create GET')![0].split('\n')[0]).toBe('405');
    for (const s of [cached, uncached]) {
      expect(await s.db.read.task.count({ where: { name: 'm' } })).toBe(1);
    }
  });
});
