// The account's one window holds across instances: REST calls on instance A
// and GraphQL operations on instance B, both on one PostgreSQL database and
// one Redis limiter, admit exactly `accountMax` between them, and a schedule's
// 10 status changes are shared the same way.
import { randomBytes } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelScheduleDocument,
  DeleteTaskDocument,
  PauseScheduleDocument,
  TaskDocument,
  TasksDocument,
  ViewerDocument,
} from '../src/generated/client/graphql.js';
import { RedisRateLimiter } from '../src/services/rate-limit-redis.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';
import { type Answer, graphqlOne, type Reply, restCalls } from './helpers/limited-calls.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
// Both instances' limiters on one Redis, under this run's own keys. Times come
// from the harnesses' clocks, which start at the same instant and move together,
// so Retry-After is exact.
const prefix = `test:rest-limits:${randomBytes(4).toString('hex')}:`;
const limiter = () => new RedisRateLimiter(REDIS_URL, { clock: 'caller', prefix });

let database: TestDatabase;
let a: Harness;
let b: Harness;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await createHarness({ database, rateLimiter: limiter() });
  // B opens the same database; A drops it when it closes, after B.
  b = await createHarness({ database: { url: database.url, drop: async () => {} }, rateLimiter: limiter() });
  expect(b.clock.now()).toBe(a.clock.now());
});

afterAll(async () => {
  await b?.close();
  await a?.close();
});

/** Both instances' clocks move on past the window: each case starts with nothing counted. */
function nextWindow() {
  for (const h of [a, b]) h.clock.advance(h.limits.windowSeconds + 1);
}

/** The connector door's cancel, on instance `h`. */
const restCancel = (h: Harness, key: string, id: string) => restCalls(h.app).cancel(key, id);

/** One GraphQL operation on instance `h`: its only root field's answer, and the headers. */
const graphql = <TData, TVars>(h: Harness, doc: TypedDocumentNode<TData, TVars>, variables: TVars, key: string) =>
  graphqlOne(h.app, doc, variables, key);

/** A status change of one schedule over GraphQL on instance B. */
const changeOnB = (change: 'cancel' | 'pause', id: string, key: string) =>
  change === 'cancel'
    ? graphql(b, CancelScheduleDocument, { id }, key)
    : graphql(b, PauseScheduleDocument, { id }, key);

const remainingOn = async (h: Harness, key: string) =>
  narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account').rateLimit.remaining;

function limitHeaders(remaining: number, reset: number, retryAfter?: number): Record<string, string> {
  return {
    'ratelimit-limit': '60',
    'ratelimit-remaining': String(remaining),
    'ratelimit-reset': String(reset),
    'ratelimit-policy': '60;w=60',
    ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }),
  };
}

const ACCOUNT_LIMITED = {
  __typename: 'RateLimited',
  code: 'RATE_LIMITED',
  message: 'Rate limit of 60 operations per account per 60s exceeded; retry in 60s.',
  scope: 'ACCOUNT',
  limit: 60,
  windowSeconds: 60,
  retryAfterSeconds: 60,
};

describe('REST cancels on instance A and GraphQL operations on instance B, one account, one window', () => {
  /** 4 of every 7 calls are REST cancels on A (40), the others GraphQL on B (30). */
  const plan = Array.from({ length: 70 }, (_, i) =>
    [0, 2, 4, 6].includes(i % 7) ? ('rest' as const) : ('gql' as const),
  );

  type Outcome =
    | { side: 'rest'; reply: Reply }
    | { side: 'gql'; reply: { headers: Record<string, string>; answer: Answer } };

  async function setUp() {
    nextWindow();
    const { id, key } = await a.account();
    // Four schedules, so 40 cancels stay within the 10 per schedule id.
    const schedules = await a.tasks(id, [{}, {}, {}, {}]);
    const readable = await a.task(id);
    let r = 0;
    let g = 0;
    const calls = plan.map((side): (() => Promise<Outcome>) => {
      if (side === 'rest') {
        const scheduleId = schedules[r++ % 4]!;
        return async () => ({ side, reply: await restCancel(a, key, scheduleId) });
      }
      const n = g++ % 3;
      return async () => ({
        side,
        reply:
          n === 0
            ? await graphql(b, TaskDocument, { id: readable }, key)
            : n === 1
              ? await graphql(b, TasksDocument, { first: 1 }, key)
              : await graphql(b, DeleteTaskDocument, { id: 'gone' }, key),
      });
    });
    return { id, key, calls };
  }

  function admitted(o: Outcome): boolean {
    if (o.side === 'rest') {
      expect([200, 429], JSON.stringify(o.reply)).toContain(o.reply.status);
      return o.reply.status === 200;
    }
    expect(['Task', 'TaskConnection', 'NotFound', 'RateLimited']).toContain(o.reply.answer.__typename);
    return o.reply.answer.__typename !== 'RateLimited';
  }

  /** A refusal is the account's on either instance: 429 errorCode 1009 on A, RateLimited on B; Retry-After 60. */
  function expectRefused(o: Outcome) {
    expect(o.reply.headers).toEqual(limitHeaders(0, 60, 60));
    if (o.side === 'rest') {
      expect(o.reply.status).toBe(429);
      expect(o.reply.body).toMatchObject({ success: false, errorCode: 1009, errorMessage: 'Too many requests' });
    } else expect(o.reply.answer).toEqual(ACCOUNT_LIMITED);
  }

  it('admits exactly 60 of 70 interleaved calls, the first 60', async () => {
    const { id, key, calls } = await setUp();
    const outcomes: Outcome[] = [];
    for (const call of calls) outcomes.push(await call());
    expect(outcomes.map(admitted)).toEqual(plan.map((_, i) => i < 60));
    for (const [i, o] of outcomes.entries()) {
      if (i < 60) expect(o.reply.headers, `call ${i + 1}`).toEqual(limitHeaders(59 - i, 60));
      else expectRefused(o);
    }
    const bySide = { rest: 0, gql: 0 };
    for (const o of outcomes.slice(0, 60)) bySide[o.side]++;
    expect(bySide).toEqual({ rest: 34, gql: 26 });
    // Both instances see the one window full; the four schedules were cancelled once each.
    expect([await remainingOn(a, key), await remainingOn(b, key)]).toEqual([0, 0]);
    expect(await a.quotaUsed(id)).toBe(4);
  });

  it('admits exactly 60 of the same 70 calls sent all at once', async () => {
    const { key, calls } = await setUp();
    const outcomes = await Promise.all(calls.map((call) => call()));
    const verdicts = outcomes.map(admitted);
    expect(verdicts.filter(Boolean)).toHaveLength(60);
    for (const [i, o] of outcomes.entries()) if (!verdicts[i]) expectRefused(o);
    // Each admission took the next place in the one window: remaining 59 … 0, once each.
    const remaining = outcomes.flatMap((o, i) => (verdicts[i] ? [Number(o.reply.headers['ratelimit-remaining'])] : []));
    expect(remaining.sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect([await remainingOn(a, key), await remainingOn(b, key)]).toEqual([0, 0]);
  });
});

describe("a schedule's 10 status changes across instances", () => {
  it('are shared by REST cancels on A and GraphQL cancels and pauses on B', async () => {
    nextWindow();
    const { id, key } = await a.account();
    const scheduleId = await a.task(id);
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      if (i % 2 === 0) {
        const reply = await restCancel(a, key, scheduleId);
        expect(reply.status).toBe(200);
        seen.push(`rest ${(reply.body as { success: boolean }).success}`);
      } else {
        const change = i % 4 === 1 ? 'pause' : 'cancel';
        seen.push(`gql ${(await changeOnB(change, scheduleId, key)).answer.__typename}`);
      }
    }
    // The first REST cancel wins; every later change is admitted but refused by the status.
    expect(seen).toEqual([
      'rest true',
      'gql InvalidStatus',
      'rest false',
      'gql InvalidStatus',
      'rest false',
      'gql InvalidStatus',
      'rest false',
      'gql InvalidStatus',
      'rest false',
      'gql InvalidStatus',
    ]);
    const refusedOnA = await restCancel(a, key, scheduleId);
    expect(refusedOnA.status).toBe(429);
    expect(refusedOnA.headers).toEqual(limitHeaders(50, 60, 60));
    expect(refusedOnA.body).toMatchObject({ success: false, errorCode: 1009, errorMessage: 'Too many requests' });
    for (const change of ['cancel', 'pause'] as const) {
      expect((await changeOnB(change, scheduleId, key)).answer).toEqual({
        __typename: 'RateLimited',
        code: 'RATE_LIMITED',
        message: 'Rate limit of 10 status changes per schedule per 60s exceeded; retry in 60s.',
        scope: 'SCHEDULE',
        limit: 10,
        windowSeconds: 60,
        retryAfterSeconds: 60,
      });
    }
    // The schedule's refusals used none of the account's window.
    expect([await remainingOn(a, key), await remainingOn(b, key)]).toEqual([50, 50]);
    expect(await a.quotaUsed(id)).toBe(1);
  });
});
