// The Redis limiter keeps the same contract as the in-memory one (times from
// the test's clock here), and its keys expire with their window.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { RateLimitRule } from '../src/services/rate-limit.js';
import { RedisRateLimiter } from '../src/services/rate-limit-redis.js';
import { graphqlRateLimitContract } from './helpers/graphql-rate-limit-contract.js';
import { rateLimiterContract } from './helpers/limiter-contract.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:${randomBytes(4).toString('hex')}:`;
const create = () => new RedisRateLimiter(REDIS_URL, { clock: 'caller', prefix });

rateLimiterContract('RedisRateLimiter', create);
graphqlRateLimitContract('Redis', create);

describe('RedisRateLimiter', () => {
  const redis = new Redis(REDIS_URL);
  afterAll(() => redis.quit());

  it('keeps at most `limit` entries per key and lets keys expire with their window', async () => {
    const limiter = create();
    const rule: RateLimitRule = { key: 'expiry', limit: 3, windowMs: 5_000, scope: 'ACCOUNT' };
    for (let i = 0; i < 10; i++) await limiter.consume([rule], Date.now());
    expect(await redis.zcard(`${prefix}expiry`)).toBe(3);
    const ttl = await redis.pttl(`${prefix}expiry`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
    await limiter.close();
  });

  it("uses Redis's own clock by default, so instances with skewed clocks agree", async () => {
    const limiter = new RedisRateLimiter(REDIS_URL, { prefix });
    const rule: RateLimitRule = { key: 'server-clock', limit: 2, windowMs: 60_000, scope: 'ACCOUNT' };
    // The callers' clocks disagree by a day; Redis's decides.
    expect((await limiter.consume([rule], Date.now())).admitted).toBe(true);
    expect((await limiter.consume([rule], Date.now() + 86_400_000)).admitted).toBe(true);
    const refused = await limiter.consume([rule], Date.now() - 86_400_000);
    expect(refused.admitted).toBe(false);
    if (!refused.admitted) expect(refused.retryAfterMs).toBeGreaterThan(59_000);
    await limiter.close();
  });

  it('answers ping, and fails (rather than admitting) when Redis is gone', async () => {
    const limiter = create();
    await limiter.ping();
    await limiter.close();
    const dead = new RedisRateLimiter('redis://127.0.0.1:1', { prefix });
    await expect(dead.consume([{ key: 'x', limit: 1, windowMs: 1000, scope: 'ACCOUNT' }], 0)).rejects.toThrow();
    await dead.close().catch(() => {});
  });
});
