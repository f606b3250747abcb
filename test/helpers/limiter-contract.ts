// The rolling-window contract every RateLimiter implementation must keep.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RateLimiter, RateLimitRule } from '../../src/services/rate-limit.js';

export function rateLimiterContract(name: string, create: () => RateLimiter) {
  // Unique keys per run: a shared store (Redis) may hold earlier runs' keys.
  const run = randomBytes(4).toString('hex');
  const rule = (limit: number, key = 'k'): RateLimitRule => ({
    key: `${run}:${key}:${limit}`,
    limit,
    windowMs: 60_000,
    scope: 'ACCOUNT',
  });

  describe(`${name}: a rolling window`, () => {
    it('admits at most `limit` in any window, even across a clock-minute boundary', async () => {
      const limiter = create();
      const r = rule(60, 'boundary');
      const minute = 60_000 * 30_000_000;
      // 60 operations late in one clock minute...
      for (let i = 0; i < 60; i++) expect((await limiter.consume([r], minute + 59_000)).admitted).toBe(true);
      // ...a fixed window would admit 60 more right after the boundary.
      expect(await limiter.consume([r], minute + 61_000)).toMatchObject({ admitted: false, retryAfterMs: 58_000 });
      expect((await limiter.consume([r], minute + 118_999)).admitted).toBe(false);
      // Exactly one window after the first 60 they have all expired.
      expect((await limiter.consume([r], minute + 119_000)).admitted).toBe(true);
      await limiter.close();
    });

    it('frees slots one by one as operations leave the window', async () => {
      const limiter = create();
      const r = rule(3, 'slots');
      for (let t = 0; t < 3; t++) await limiter.consume([r], t * 10_000); // at 0s, 10s, 20s
      expect(await limiter.consume([r], 30_000)).toMatchObject({ admitted: false, retryAfterMs: 30_000 });
      expect((await limiter.consume([r], 60_000)).admitted).toBe(true); // the 0s one left
      expect(await limiter.consume([r], 60_001)).toMatchObject({ admitted: false, retryAfterMs: 9_999 });
      expect(await limiter.state(r, 60_001)).toEqual({ used: 3, nextExpiryAt: 70_000, resetAt: 120_000, at: 60_001 });
      await limiter.close();
    });

    it('records an operation under every rule or under none', async () => {
      const limiter = create();
      const account = rule(5, 'acct');
      const schedule: RateLimitRule = { ...rule(1, 'sched'), scope: 'SCHEDULE' };
      expect((await limiter.consume([account, schedule], 0)).admitted).toBe(true);
      expect(await limiter.consume([account, schedule], 1)).toMatchObject({ admitted: false, rule: schedule });
      // The refusal by the schedule rule did not use the account's budget.
      expect((await limiter.state(account, 2)).used).toBe(1);
      await limiter.close();
    });

    it('admits exactly `limit` of many concurrent operations', async () => {
      const limiter = create();
      const r = rule(60, 'burst');
      const answers = await Promise.all(Array.from({ length: 100 }, () => limiter.consume([r], 5_000)));
      expect(answers.filter((a) => a.admitted)).toHaveLength(60);
      await limiter.close();
    });
  });
}
