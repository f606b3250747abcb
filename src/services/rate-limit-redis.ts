// The rolling-window limiter on Redis, shared by every instance. Each key is a
// sorted set of admission times; one Lua script per check prunes, counts and
// records atomically for all of an operation's rules, so concurrent instances
// can never both take the last slot (no read-then-write across round trips).
//
// Why not a library: rate-limiter-flexible's RateLimiterRedis counts fixed
// windows, and @upstash/ratelimit's sliding window is an approximation (it
// weights the previous window's count) that can exceed the limit in some
// 60-second spans. The sliding log below is exact.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Admission, RateLimiter, RateLimitRule, RateLimitState } from './rate-limit.js';

// ARGV[1] of both scripts: now in ms, or negative to use Redis's own clock.
const NOW = `
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

// ARGV: now, a unique member, then limit and window (ms) for each key.
// Returns {1, count, oldest, now} (the first key's state after recording, for
// the rate-limit headers) or {0, refusing key index, retry after ms}.
const CONSUME = `${NOW}for i = 1, #KEYS do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    local blocking = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    return {0, i, tonumber(blocking[2]) + window - now}
  end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 + 2 * i]))
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {1, redis.call('ZCARD', KEYS[1]), tonumber(oldest[2]), now}
`;

// ARGV: now (as above), window (ms). Returns {count, oldest or -1, newest or -1, now}.
const STATE = `${NOW}redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
if count == 0 then return {0, -1, -1, now} end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
return {count, tonumber(oldest[2]), tonumber(newest[2]), now}
`;

type Scripted = Redis & {
  rateLimitConsume(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  rateLimitState(key: string, now: number, windowMs: number): Promise<number[]>;
};

export interface RedisRateLimiterOptions {
  /**
   * Whose clock times admissions: Redis's (default; one clock for every
   * instance, so their skew cannot widen the window) or the caller's `now`
   * (tests that move time).
   */
  clock?: 'redis' | 'caller';
  /** Prefix of every key this limiter writes. */
  prefix?: string;
  /** Connection errors (the client reconnects by itself; checks fail meanwhile). */
  onError?: (err: Error) => void;
}

export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Scripted;
  readonly #useCallerClock: boolean;
  readonly #prefix: string;

  constructor(url: string, options: RedisRateLimiterOptions = {}) {
    const redis = new Redis(url, {
      // Every root field of a request checks the limit: send them in one batch.
      enableAutoPipelining: true,
      maxRetriesPerRequest: 2,
    });
    redis.on('error', (err: Error) => options.onError?.(err));
    redis.defineCommand('rateLimitConsume', { lua: CONSUME });
    redis.defineCommand('rateLimitState', { lua: STATE, numberOfKeys: 1 });
    this.#redis = redis as Scripted;
    this.#useCallerClock = options.clock === 'caller';
    this.#prefix = options.prefix ?? 'rl:';
  }

  async consume(rules: readonly RateLimitRule[], now: number): Promise<Admission> {
    const member = `${now}:${randomBytes(6).toString('base64url')}`;
    const args: (string | number)[] = [...rules.map((r) => this.#prefix + r.key), this.#clock(now), member];
    for (const r of rules) args.push(r.limit, r.windowMs);
    const answer = await this.#redis.rateLimitConsume(rules.length, ...args);
    if (answer[0] === 1) {
      const [, used, oldest, at] = answer as [1, number, number, number];
      const windowMs = rules[0]!.windowMs;
      return { admitted: true, state: { used, nextExpiryAt: oldest + windowMs, resetAt: at + windowMs, at } };
    }
    const [, index, retryAfterMs] = answer as [0, number, number];
    return { admitted: false, rule: rules[index - 1]!, retryAfterMs };
  }

  async state(rule: RateLimitRule, now: number): Promise<RateLimitState> {
    const [used, oldest, newest, at] = await this.#redis.rateLimitState(
      this.#prefix + rule.key,
      this.#clock(now),
      rule.windowMs,
    );
    return {
      used: used!,
      nextExpiryAt: oldest! < 0 ? null : oldest! + rule.windowMs,
      resetAt: newest! < 0 ? null : newest! + rule.windowMs,
      at: at!,
    };
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #clock(now: number): number {
    return this.#useCallerClock ? now : -1;
  }
}
