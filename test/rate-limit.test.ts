import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter, type RateLimitRule } from '../src/services/rate-limit.js';
import { graphqlRateLimitContract } from './helpers/graphql-rate-limit-contract.js';
import { rateLimiterContract } from './helpers/limiter-contract.js';

rateLimiterContract('MemoryRateLimiter', () => new MemoryRateLimiter());

describe('MemoryRateLimiter', () => {
  it('forgets idle keys, so memory follows active keys rather than all keys ever seen', async () => {
    const limiter = new MemoryRateLimiter();
    // 20,000 keys, one every 10 ms: at the end only the last 60 s (6,000 keys) are live.
    const rule = (key: string): RateLimitRule => ({ key, limit: 1, windowMs: 60_000, scope: 'ACCOUNT' });
    for (let i = 0; i < 20_000; i++) await limiter.consume([rule(`key-${i}`)], i * 10);
    expect(limiter.size).toBeLessThanOrEqual(6_001);
  });
});

graphqlRateLimitContract('in memory', () => new MemoryRateLimiter());
