import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelScheduleDocument, ViewerDocument } from '../src/generated/client/graphql.js';
import { MemoryRateLimiter, type RateLimitRule } from '../src/services/rate-limit.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';

const rule = (limit: number, key = 'k'): RateLimitRule => ({ key, limit, windowMs: 60_000, scope: 'ACCOUNT' });

describe('MemoryRateLimiter: a rolling window', () => {
  it('admits at most `limit` in any window, even across a clock-minute boundary', async () => {
    const limiter = new MemoryRateLimiter();
    const minute = 60_000 * 1_000_000;
    // 60 operations late in one clock minute...
    for (let i = 0; i < 60; i++) expect((await limiter.consume([rule(60)], minute + 59_000)).admitted).toBe(true);
    // ...a fixed window would admit 60 more right after the boundary.
    const refused = await limiter.consume([rule(60)], minute + 61_000);
    expect(refused).toMatchObject({ admitted: false, retryAfterMs: 58_000 });
    expect((await limiter.consume([rule(60)], minute + 118_999)).admitted).toBe(false);
    // Exactly one window after the first 60 they have all expired.
    expect((await limiter.consume([rule(60)], minute + 119_000)).admitted).toBe(true);
  });

  it('frees slots one by one as operations leave the window', async () => {
    const limiter = new MemoryRateLimiter();
    for (let t = 0; t < 3; t++) await limiter.consume([rule(3)], t * 10_000); // at 0s, 10s, 20s
    expect(await limiter.consume([rule(3)], 30_000)).toMatchObject({ admitted: false, retryAfterMs: 30_000 });
    expect((await limiter.consume([rule(3)], 60_000)).admitted).toBe(true); // the 0s one left
    expect(await limiter.consume([rule(3)], 60_001)).toMatchObject({ admitted: false, retryAfterMs: 9_999 });
    expect(await limiter.state(rule(3), 60_001)).toEqual({ used: 3, nextExpiryAt: 70_000, resetAt: 120_000 });
  });

  it('records an operation under every rule or under none', async () => {
    const limiter = new MemoryRateLimiter();
    const account = rule(5, 'acct');
    const schedule: RateLimitRule = { ...rule(1, 'sched'), scope: 'SCHEDULE' };
    expect((await limiter.consume([account, schedule], 0)).admitted).toBe(true);
    expect(await limiter.consume([account, schedule], 1)).toMatchObject({ admitted: false, rule: schedule });
    // The refusal by the schedule rule did not use the account's budget.
    expect((await limiter.state(account, 2)).used).toBe(1);
  });

  it('forgets idle keys, so memory follows active keys rather than all keys ever seen', async () => {
    const limiter = new MemoryRateLimiter();
    // 20,000 keys, one every 10 ms: at the end only the last 60 s (6,000 keys) are live.
    for (let i = 0; i < 20_000; i++) await limiter.consume([rule(1, `key-${i}`)], i * 10);
    expect(limiter.size).toBeLessThanOrEqual(6_001);
  });
});

describe('rate limits over GraphQL', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('counts every root field: 61 aliased task fields give 60 answers and one RateLimited', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id);
    const fields = Array.from(
      { length: 61 },
      (_, i) => `t${i}: task(id: $id) { __typename ... on RateLimited { retryAfterSeconds scope limit } }`,
    );
    // Built at run time, so a plain string rather than a codegen document.
    const res = await h.request(`query Aliased($id: ID!) { ${fields.join('\n')} }`, { id: taskId }, { key });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const answers = Object.values(res.body.data!) as { __typename: string }[];
    expect(answers.filter((a) => a.__typename === 'Task')).toHaveLength(60);
    expect(answers.filter((a) => a.__typename === 'RateLimited')).toEqual([
      { __typename: 'RateLimited', retryAfterSeconds: 60, scope: 'ACCOUNT', limit: 60 },
    ]);
    // Still limited in the next request, and the viewer says why.
    expect((await h.gql(ViewerDocument, {}, key)).viewer).toMatchObject({ __typename: 'RateLimited' });
    h.clock.advance(60);
    expect(narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account').rateLimit).toMatchObject({
      limit: 60,
      remaining: 59,
    });
  });

  it('limits cancelSchedule per schedule id (scope SCHEDULE), separately from other schedules', async () => {
    h.clock.advance(120);
    const { id, key } = await h.account();
    const [first, second] = (await h.tasks(id, [{ status: 'CANCELLED' }, { status: 'CANCELLED' }])) as [string, string];
    for (let i = 0; i < 10; i++) {
      narrow((await h.gql(CancelScheduleDocument, { id: first }, key)).cancelSchedule, 'InvalidStatus');
      h.clock.advance(1);
    }
    expect((await h.gql(CancelScheduleDocument, { id: first }, key)).cancelSchedule).toEqual({
      __typename: 'RateLimited',
      code: 'RATE_LIMITED',
      message: expect.any(String),
      scope: 'SCHEDULE',
      limit: 10,
      windowSeconds: 60,
      retryAfterSeconds: 50,
    });
    narrow((await h.gql(CancelScheduleDocument, { id: second }, key)).cancelSchedule, 'InvalidStatus');
    // A refusal by the schedule limit did not use the account's budget: 12 counted.
    expect(narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account').rateLimit.remaining).toBe(60 - 12);
  });
});
