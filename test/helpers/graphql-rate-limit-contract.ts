// Rate limits through the API, for any RateLimiter implementation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelScheduleDocument, ViewerDocument } from '../../src/generated/client/graphql.js';
import type { RateLimiter } from '../../src/services/rate-limit.js';
import { createHarness, type Harness, narrow } from './harness.js';

export function graphqlRateLimitContract(name: string, createLimiter: () => RateLimiter) {
  describe(`rate limits over GraphQL (${name})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness({ rateLimiter: createLimiter() });
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
      // Still limited in the next request; the viewer (never counted) says until when.
      expect(narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account').rateLimit).toMatchObject({
        limit: 60,
        remaining: 0,
        nextAdmissionAt: new Date(h.clock.now() + 60_000).toISOString(),
      });
      h.clock.advance(60);
      expect(narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account').rateLimit).toMatchObject({
        limit: 60,
        remaining: 60,
      });
    });

    /** Sends a document with the key; the status, the rate-limit headers and the data. */
    async function withHeaders(query: string, key?: string) {
      const res = await h.app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { 'x-access-key': key } : {}) },
        body: JSON.stringify({ query }),
      });
      const names = ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-policy', 'retry-after'];
      const headers = Object.fromEntries(names.flatMap((n) => (res.headers.has(n) ? [[n, res.headers.get(n)]] : [])));
      return { status: res.status, headers, data: ((await res.json()) as { data: Record<string, unknown> }).data };
    }

    it('tells every authenticated response the account’s limit in RateLimit-* headers, and Retry-After when refused', async () => {
      h.clock.advance(120);
      const { id, key } = await h.account();
      const taskId = await h.task(id);
      const read = `{ task(id: "${taskId}") { __typename } }`;
      expect((await withHeaders(read, key)).headers).toEqual({
        'ratelimit-limit': '60',
        'ratelimit-remaining': '59',
        'ratelimit-reset': '60',
        'ratelimit-policy': '60;w=60',
      });
      h.clock.advance(30);
      // Two operations in one request: the headers count both; Reset is when
      // the oldest counted operation leaves the window (remaining goes up).
      const two = await withHeaders(`{ a: task(id: "${taskId}") { __typename } b: tasks { __typename } }`, key);
      expect(two.headers).toMatchObject({ 'ratelimit-remaining': '57', 'ratelimit-reset': '30' });
      // viewer counts nothing and still carries the headers.
      expect((await withHeaders('{ viewer { __typename } }', key)).headers).toMatchObject({
        'ratelimit-remaining': '57',
      });
      // Use up the rest: the refused field brings Retry-After (seconds until the next admission).
      const fields = Array.from({ length: 58 }, (_, i) => `t${i}: task(id: "${taskId}") { __typename }`).join(' ');
      const limited = await withHeaders(`{ ${fields} }`, key);
      expect(limited.status).toBe(200);
      expect(
        Object.values(limited.data).filter((a) => (a as { __typename: string }).__typename === 'RateLimited'),
      ).toHaveLength(1);
      expect(limited.headers).toEqual({
        'ratelimit-limit': '60',
        'ratelimit-remaining': '0',
        'ratelimit-reset': '30',
        'ratelimit-policy': '60;w=60',
        'retry-after': '30',
      });
      // While limited, viewer answers and the headers say when to go on (no Retry-After: nothing was refused).
      const viewer = await withHeaders('{ viewer { __typename } }', key);
      expect(viewer.data).toEqual({ viewer: { __typename: 'Account' } });
      expect(viewer.headers).toMatchObject({ 'ratelimit-remaining': '0', 'ratelimit-reset': '30' });
      expect(viewer.headers['retry-after']).toBeUndefined();
      // No key, or an unknown one: no account, no headers.
      expect((await withHeaders(read)).headers).toEqual({});
      expect((await withHeaders(read, 'tsk_unknown')).headers).toEqual({});
    });

    it('limits cancelSchedule per schedule id (scope SCHEDULE), separately from other schedules', async () => {
      h.clock.advance(120);
      const { id, key } = await h.account();
      const [first, second] = (await h.tasks(id, [{ status: 'CANCELLED' }, { status: 'CANCELLED' }])) as [
        string,
        string,
      ];
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
      // A refusal by the schedule limit did not use the account's budget: 11 counted.
      expect(narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account').rateLimit.remaining).toBe(60 - 11);
    });
  });
}
