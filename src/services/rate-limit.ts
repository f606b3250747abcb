// Rolling-window rate limiting (in memory here; rate-limit-redis.ts shares it
// between instances): at most `limit` operations in ANY span of
// `windowMs`, not per clock minute (a fixed window admits up to twice the limit
// across a boundary). Implemented as a sliding log: the admission times of the
// last `limit` operations per key.
//
// Why not a library: rate-limiter-flexible (the well-kept choice) only offers
// fixed windows (RateLimiterMemory/Redis count per `duration` from the first
// hit), and token buckets admit a burst of `limit` plus the refill within one
// window. An exact rolling window needs the log, and it is a few lines.
import type { RateLimitScope } from './errors.js';

export interface RateLimitRule {
  key: string;
  limit: number;
  windowMs: number;
  scope: RateLimitScope;
}

/** Admitted: the first rule's state with this operation counted. Refused: the first rule that refused. */
export type Admission =
  | { admitted: true; state: RateLimitState }
  | { admitted: false; rule: RateLimitRule; retryAfterMs: number };

export interface RateLimitState {
  /** Operations counted in the window ending now. */
  used: number;
  /** When the oldest counted operation leaves the window (null when none). */
  nextExpiryAt: number | null;
  /** When every counted operation has left the window (null when none). */
  resetAt: number | null;
  /** The limiter's own clock when it answered (Redis's, on Redis): the times above are on it. */
  at: number;
}

export interface RateLimiter {
  /**
   * Admits one operation if every rule has room, recording it under every
   * rule; otherwise records nothing and names the first rule that refused.
   */
  consume(rules: readonly RateLimitRule[], now: number): Promise<Admission>;
  state(rule: RateLimitRule, now: number): Promise<RateLimitState>;
  /** Throws if the limiter's store cannot answer (readiness checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** One key's admission times, oldest first, as a growable queue. */
class SlidingLog {
  times: number[] = [];

  constructor(readonly windowMs: number) {}
  head = 0;

  prune(cutoff: number) {
    while (this.head < this.times.length && this.times[this.head]! <= cutoff) this.head++;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 64 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  get size() {
    return this.times.length - this.head;
  }

  at(i: number) {
    return this.times[this.head + i]!;
  }
}

function stateOf(log: SlidingLog, windowMs: number, at: number): RateLimitState {
  return {
    used: log.size,
    nextExpiryAt: log.size ? log.at(0) + windowMs : null,
    resetAt: log.size ? log.at(log.size - 1) + windowMs : null,
    at,
  };
}

/** In-process limiter: correct for one instance. */
export class MemoryRateLimiter implements RateLimiter {
  #logs = new Map<string, SlidingLog>();
  #calls = 0;

  async consume(rules: readonly RateLimitRule[], now: number): Promise<Admission> {
    if (++this.#calls % 10_000 === 0) this.#sweep(now);
    const logs = rules.map((rule) => this.#log(rule, now));
    for (const [i, rule] of rules.entries()) {
      const log = logs[i]!;
      if (log.size >= rule.limit) {
        // The operation that must leave the window before one more fits.
        const retryAfterMs = log.at(log.size - rule.limit) + rule.windowMs - now;
        return { admitted: false, rule, retryAfterMs };
      }
    }
    for (const log of logs) log.times.push(now);
    return { admitted: true, state: stateOf(logs[0]!, rules[0]!.windowMs, now) };
  }

  async state(rule: RateLimitRule, now: number): Promise<RateLimitState> {
    return stateOf(this.#log(rule, now), rule.windowMs, now);
  }

  async ping() {}

  async close() {
    this.#logs.clear();
  }

  /** Keys currently held (for tests and metrics). */
  get size(): number {
    return this.#logs.size;
  }

  #log(rule: RateLimitRule, now: number): SlidingLog {
    let log = this.#logs.get(rule.key);
    if (!log) {
      log = new SlidingLog(rule.windowMs);
      this.#logs.set(rule.key, log);
    }
    log.prune(now - rule.windowMs);
    return log;
  }

  /** Drops keys with nothing left in their window, so idle keys cost no memory. */
  #sweep(now: number) {
    for (const [key, log] of this.#logs) {
      // Each key by its own window: it is empty once its newest entry left it.
      if (log.size === 0 || log.at(log.size - 1) <= now - log.windowMs) this.#logs.delete(key);
    }
  }
}
