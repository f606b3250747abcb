// An isolated app per test file: its own migrated SQLite file, a clock the
// test moves, and the real yoga app called through `fetch`.

import { Writable } from 'node:stream';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type DocumentNode, print } from 'graphql';
import { expect } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { type Limits, NO_EXECUTOR, type RunSettings } from '../../src/config.js';
import { type Database, type DatabaseOptions, openDatabase } from '../../src/db/client.js';
import type { Billing, Plan, ScheduleStatus } from '../../src/db/models.js';
import { Dispatcher } from '../../src/dispatcher/dispatcher.js';
import { createLogger } from '../../src/logger.js';
import { insertAccount, insertApiKey } from '../../src/services/accounts.js';
import type { Clock } from '../../src/services/clock.js';
import { MemoryEventBus } from '../../src/services/events/memory-bus.js';
import { Subscriptions } from '../../src/services/events/subscriptions.js';
import type { EventBus } from '../../src/services/events/task-events.js';
import { newId } from '../../src/services/ids.js';
import { MemoryRateLimiter, type RateLimiter } from '../../src/services/rate-limit.js';
import type { Deps } from '../../src/services/session.js';
import { nextRunAfter } from '../../src/services/tasks/next-run.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const DEFAULT_LIMITS: Limits = {
  accountMax: 60,
  scheduleMax: 10,
  windowSeconds: 60,
  subscriptionsPerAccount: 20,
  subscriptionRecheckSeconds: 30,
};

export class TestClock implements Clock {
  constructor(public ms = Date.UTC(2026, 5, 15, 12, 0, 0)) {}
  now() {
    return this.ms;
  }
  advance(seconds: number) {
    this.ms += seconds * 1000;
  }
}

export interface TaskSeed {
  id?: string;
  name?: string;
  status?: ScheduleStatus;
  inProgress?: boolean;
  createdAt?: Date;
  version?: number;
  /** Default: planned from the clock when ACTIVE, as the services plan it. */
  nextRunAt?: Date | null;
  api?: 'SCREENSHOT' | 'SCREENCAST' | 'PDF' | 'SCRAPE';
}

export interface AccountSeed {
  plan?: Plan;
  billing?: Billing;
  quotaLimit?: number;
  quotaUsed?: number;
  quotaResetAt?: Date | null;
  name?: string;
}

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  body: { data?: T | null; errors?: { message: string; extensions?: Record<string, unknown>; path?: unknown[] }[] };
}

/** A typed document from codegen, or a literal string for documents built at run time. */
export type Document<TData, TVars> = TypedDocumentNode<TData, TVars> | string;

const printed = new WeakMap<object, string>();
function source(doc: DocumentNode | string): string {
  if (typeof doc === 'string') return doc;
  let text = printed.get(doc);
  if (!text) {
    text = print(doc);
    printed.set(doc, text);
  }
  return text;
}

type Typename<T> = T extends { __typename: infer N } ? N : never;

/** Asserts a union answer's member and narrows its type to it. */
export function narrow<T extends { __typename: string }, N extends Typename<T>>(
  value: T | null | undefined,
  typename: N,
): Extract<T, { __typename: N }> {
  expect(value?.__typename, JSON.stringify(value)).toBe(typename);
  return value as Extract<T, { __typename: N }>;
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

export interface HarnessOptions {
  limits?: Partial<Limits>;
  rateLimiter?: RateLimiter;
  /** The database to open (dropped on close); a fresh one of the project's provider by default. */
  database?: TestDatabase;
  databaseOptions?: Omit<DatabaseOptions, 'onQuery'>;
  /** Running schedules (no executor by default: runTask answers SchedulerDisabled). */
  runs?: Partial<RunSettings>;
  /**
   * A dispatcher on the harness's database and clock, not started: tests
   * drive it with `tick()` and `idle()`. Needs `runs.executorUrl`.
   */
  dispatcher?: boolean;
  /** The event bus (default: in memory). */
  events?: EventBus;
}

export async function createHarness(options: HarnessOptions = {}) {
  const testDb = options.database ?? (await createTestDatabase());
  const queries: string[] = [];
  const db: Database = await openDatabase(testDb.url, {
    ...options.databaseOptions,
    onQuery: (sql) => queries.push(sql),
  });
  const clock = new TestClock();
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const runs: RunSettings = { ...NO_EXECUTOR, ...options.runs };
  if (runs.executorUrl && !runs.executorSecret) runs.executorSecret = 'test-secret-0123456789';
  const events = options.events ?? new MemoryEventBus();
  const deps: Deps = {
    db,
    clock,
    rateLimiter: options.rateLimiter ?? new MemoryRateLimiter(),
    limits,
    runs,
    events,
    subscriptions: new Subscriptions(),
  };
  const logLines: string[] = [];
  const logger = createLogger(
    'error',
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  const dispatcher = options.dispatcher ? new Dispatcher({ deps: { db, clock, runs, events }, logger }) : undefined;
  deps.runner = dispatcher;
  const app: App = createApp({ deps, logger, graphiql: true });

  async function request<TData = Record<string, unknown>, TVars = Record<string, unknown>>(
    doc: Document<TData, TVars>,
    variables?: TVars,
    init: { key?: string | undefined; headers?: Record<string, string> } = {},
  ): Promise<GqlResponse<TData>> {
    const res = await app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(init.key ? { 'x-access-key': init.key } : {}),
        ...init.headers,
      },
      body: JSON.stringify({ query: source(doc), variables }),
    });
    return { status: res.status, body: (await res.json()) as GqlResponse<TData>['body'] };
  }

  /** Executes and returns `data`, failing on any top-level error. */
  async function gql<TData, TVars>(doc: Document<TData, TVars>, variables: TVars, key?: string): Promise<TData> {
    const res = await request(doc, variables, { key });
    if (res.status !== 200 || res.body.errors || !res.body.data) {
      throw new Error(`GraphQL request failed (${res.status}): ${JSON.stringify(res.body.errors)}`);
    }
    return res.body.data;
  }

  async function account(seed: AccountSeed = {}): Promise<{ id: string; key: string }> {
    return db.transaction(async (tx) => {
      const id = await insertAccount(
        tx,
        {
          name: seed.name ?? 'acme',
          plan: seed.plan ?? 'SCALE',
          billing: seed.billing ?? 'OK',
          quotaLimit: seed.quotaLimit ?? 1000,
          quotaUsed: seed.quotaUsed ?? 0,
          quotaResetAt: seed.quotaResetAt === undefined ? null : seed.quotaResetAt,
        },
        clock.now(),
      );
      return { id, key: await insertApiKey(tx, id) };
    });
  }

  let seq = 0;
  async function tasks(accountId: string, seeds: TaskSeed[]): Promise<string[]> {
    const data = seeds.map((s) => {
      const schedule = { crontab: '0 0 * * *', timezone: 'Etc/UTC', status: s.status ?? ('ACTIVE' as const) };
      return {
        id: s.id ?? `t-${newId(10)}`,
        accountId,
        name: s.name ?? `task ${++seq}`,
        api: s.api ?? ('SCREENSHOT' as const),
        query: 'url=https%3A%2F%2Fexample.com',
        frequency: 'EVERY_DAY' as const,
        ...schedule,
        inProgress: s.inProgress ?? false,
        createdAt: s.createdAt ?? new Date(clock.now() - 1000 * ++seq),
        version: s.version ?? 1,
        nextRunAt: s.nextRunAt === undefined ? nextRunAfter(schedule, clock.now()) : s.nextRunAt,
      };
    });
    await db.transaction((tx) => tx.task.createMany({ data }));
    return data.map((d) => d.id);
  }

  const task = async (accountId: string, seed: TaskSeed = {}) => (await tasks(accountId, [seed]))[0]!;

  async function quotaUsed(accountId: string): Promise<number> {
    return (await db.read.account.findUniqueOrThrow({ where: { id: accountId } })).quotaUsed;
  }

  /** Runs `fn` and returns the SQL statements it sent. */
  async function sqlDuring(fn: () => Promise<unknown>): Promise<string[]> {
    const start = queries.length;
    await fn();
    return queries.slice(start);
  }

  return {
    app,
    /** The DATABASE_URL the app opened (`file:<path>` on SQLite). */
    url: testDb.url,
    db,
    deps,
    clock,
    limits,
    queries,
    logLines,
    request,
    gql,
    account,
    tasks,
    task,
    quotaUsed,
    sqlDuring,
    dispatcher,
    close: async () => {
      await dispatcher?.stop();
      await Promise.all([deps.rateLimiter.close(), events.close()]);
      await db.close();
      await testDb.drop();
    },
  };
}
