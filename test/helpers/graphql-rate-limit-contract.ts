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
      // A refusal by the schedule limit did not use the account's budget: 12 counted.
      expect(narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account').rateLimit.remaining).toBe(60 - 12);
    });
  });
}
