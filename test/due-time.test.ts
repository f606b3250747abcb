// The catch-up rule (what a due time becomes when a dispatcher reaches it)
// and the timing rules of attempts, as pure functions: exact instants written
// by hand. 2026 Berlin transitions: 03-29 01:00Z (CET→CEST, walls 02:00–03:00
// do not exist) and 10-25 01:00Z (CEST→CET, walls 02:00–03:00 repeat).
import { describe, expect, it } from 'vitest';
import { type DueTime, dueTime } from '../src/services/runs/due-time.js';
import { leaseMs, retryDelayMs } from '../src/services/runs/policy.js';

const FIVE_MINUTES = 300_000;
const at = (iso: string) => new Date(iso);

/** dueTime of a task due at `first`, reached at `now`, as ISO strings (readable failures). */
function due(crontab: string, first: string, now: string, catchUpMs = FIVE_MINUTES, timezone = 'Etc/UTC') {
  const result: DueTime = dueTime({ crontab, timezone, nextRunAt: at(first) }, at(now).getTime(), catchUpMs);
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return { runAt: iso(result.runAt), missedFrom: iso(result.missedFrom), next: iso(result.next) };
}

describe('dueTime: only its first time has come due', () => {
  it('runs that time, misses nothing, and plans the next', () => {
    expect(due('0 * * * *', '2026-06-15T12:00:00.000Z', '2026-06-15T12:00:30.000Z')).toEqual({
      runAt: '2026-06-15T12:00:00.000Z',
      missedFrom: null,
      next: '2026-06-15T13:00:00.000Z',
    });
    // Reached at the very instant.
    expect(due('0 * * * *', '2026-06-15T12:00:00.000Z', '2026-06-15T12:00:00.000Z').runAt).toBe(
      '2026-06-15T12:00:00.000Z',
    );
  });

  it('runs it up to exactly the window, and only records it as missed 1 ms later', () => {
    expect(due('0 * * * *', '2026-06-15T12:00:00.000Z', '2026-06-15T12:05:00.000Z')).toEqual({
      runAt: '2026-06-15T12:00:00.000Z',
      missedFrom: null,
      next: '2026-06-15T13:00:00.000Z',
    });
    expect(due('0 * * * *', '2026-06-15T12:00:00.000Z', '2026-06-15T12:05:00.001Z')).toEqual({
      runAt: null,
      missedFrom: '2026-06-15T12:00:00.000Z',
      next: '2026-06-15T13:00:00.000Z',
    });
  });
});

describe('dueTime: several times have come due (downtime)', () => {
  it('within the window: runs only the latest, the rest from the first are missed', () => {
    expect(due('* * * * *', '2026-06-15T12:00:00.000Z', '2026-06-15T12:03:30.000Z')).toEqual({
      runAt: '2026-06-15T12:03:00.000Z',
      missedFrom: '2026-06-15T12:00:00.000Z',
      next: '2026-06-15T12:04:00.000Z',
    });
  });

  it('the first older than the window: still the latest within it runs', () => {
    expect(due('* * * * *', '2026-06-15T10:00:00.000Z', '2026-06-15T12:03:30.000Z')).toEqual({
      runAt: '2026-06-15T12:03:00.000Z',
      missedFrom: '2026-06-15T10:00:00.000Z',
      next: '2026-06-15T12:04:00.000Z',
    });
  });

  it('a time exactly at the window start still runs; 1 ms later none does', () => {
    expect(due('0 * * * *', '2026-06-15T10:00:00.000Z', '2026-06-15T12:05:00.000Z')).toEqual({
      runAt: '2026-06-15T12:00:00.000Z',
      missedFrom: '2026-06-15T10:00:00.000Z',
      next: '2026-06-15T13:00:00.000Z',
    });
    expect(due('0 * * * *', '2026-06-15T10:00:00.000Z', '2026-06-15T12:05:00.001Z')).toEqual({
      runAt: null,
      missedFrom: '2026-06-15T10:00:00.000Z',
      next: '2026-06-15T13:00:00.000Z',
    });
  });

  it('all older than the window: nothing runs, one missed record from the first', () => {
    expect(due('0 * * * *', '2026-06-15T09:00:00.000Z', '2026-06-15T11:30:00.000Z')).toEqual({
      runAt: null,
      missedFrom: '2026-06-15T09:00:00.000Z',
      next: '2026-06-15T12:00:00.000Z',
    });
  });
});

describe('dueTime with a window of 0: the lateness grace (LATE_GRACE_MS) still applies', () => {
  it('runs a time reached a little late (a running dispatcher), misses one reached later than the grace', () => {
    expect(due('0 * * * *', '2026-06-15T12:00:00.000Z', '2026-06-15T12:00:00.020Z', 0)).toEqual({
      runAt: '2026-06-15T12:00:00.000Z',
      missedFrom: null,
      next: '2026-06-15T13:00:00.000Z',
    });
    expect(due('0 * * * *', '2026-06-15T12:00:00.000Z', '2026-06-15T12:00:05.000Z', 0)).toEqual({
      runAt: '2026-06-15T12:00:00.000Z',
      missedFrom: null,
      next: '2026-06-15T13:00:00.000Z',
    });
    expect(due('0 * * * *', '2026-06-15T12:00:00.000Z', '2026-06-15T12:00:05.001Z', 0)).toEqual({
      runAt: null,
      missedFrom: '2026-06-15T12:00:00.000Z',
      next: '2026-06-15T13:00:00.000Z',
    });
  });

  it('after downtime: the latest time within the grace runs, the others are missed', () => {
    expect(due('* * * * *', '2026-06-15T12:00:00.000Z', '2026-06-15T12:03:04.000Z', 0)).toEqual({
      runAt: '2026-06-15T12:03:00.000Z',
      missedFrom: '2026-06-15T12:00:00.000Z',
      next: '2026-06-15T12:04:00.000Z',
    });
    expect(due('* * * * *', '2026-06-15T12:00:00.000Z', '2026-06-15T12:03:06.000Z', 0)).toEqual({
      runAt: null,
      missedFrom: '2026-06-15T12:00:00.000Z',
      next: '2026-06-15T12:04:00.000Z',
    });
  });
});

describe('dueTime of schedules that stop', () => {
  it('a crontab that never fires again: the due time runs (or is missed) and there is no next', () => {
    // 30 February: a nextRunAt stored before the crontab changed, say.
    expect(due('0 0 30 2 *', '2026-02-01T00:00:00.000Z', '2026-02-01T00:00:01.000Z')).toEqual({
      runAt: '2026-02-01T00:00:00.000Z',
      missedFrom: null,
      next: null,
    });
    expect(due('0 0 30 2 *', '2026-02-01T00:00:00.000Z', '2026-02-02T00:00:00.000Z')).toEqual({
      runAt: null,
      missedFrom: '2026-02-01T00:00:00.000Z',
      next: null,
    });
  });

  it('a crontab or zone that no longer parses: missed, no next', () => {
    const missed = { runAt: null, missedFrom: '2026-06-15T12:00:00.000Z', next: null };
    expect(due('not a crontab', '2026-06-15T12:00:00.000Z', '2026-06-15T12:00:01.000Z')).toEqual(missed);
    expect(
      due('0 * * * *', '2026-06-15T12:00:00.000Z', '2026-06-15T12:00:01.000Z', FIVE_MINUTES, 'Mars/Olympus'),
    ).toEqual(missed);
  });

  it('29 February after four years down: missed, the next leap day planned', () => {
    expect(due('0 0 29 2 *', '2024-02-29T00:00:00.000Z', '2028-03-01T00:00:00.000Z')).toEqual({
      runAt: null,
      missedFrom: '2024-02-29T00:00:00.000Z',
      next: '2032-02-29T00:00:00.000Z',
    });
    expect(due('0 0 29 2 *', '2024-02-29T00:00:00.000Z', '2028-02-29T00:02:00.000Z')).toEqual({
      runAt: '2028-02-29T00:00:00.000Z',
      missedFrom: '2024-02-29T00:00:00.000Z',
      next: '2032-02-29T00:00:00.000Z',
    });
  });
});

describe('dueTime across DST (Europe/Berlin)', () => {
  const berlin = (crontab: string, first: string, now: string, catchUpMs = FIVE_MINUTES) =>
    due(crontab, first, now, catchUpMs, 'Europe/Berlin');

  it('spring gap, fixed 02:30: the shifted run at the transition is the one that runs', () => {
    // 28 March 02:30 CET (01:30Z); 29 March 02:30 does not exist → 01:00Z; 30 March 02:30 CEST (00:30Z).
    expect(berlin('30 2 * * *', '2026-03-28T01:30:00.000Z', '2026-03-29T01:02:00.000Z')).toEqual({
      runAt: '2026-03-29T01:00:00.000Z',
      missedFrom: '2026-03-28T01:30:00.000Z',
      next: '2026-03-30T00:30:00.000Z',
    });
    expect(berlin('30 2 * * *', '2026-03-29T01:00:00.000Z', '2026-03-29T01:00:10.000Z')).toEqual({
      runAt: '2026-03-29T01:00:00.000Z',
      missedFrom: null,
      next: '2026-03-30T00:30:00.000Z',
    });
  });

  it('spring gap, every 30 minutes of hour 2: that day has none, so nothing in the window runs', () => {
    // An elapsed crontab follows real time: no wall 02:xx on 29 March, no shifted run.
    expect(berlin('*/30 2 * * *', '2026-03-28T01:00:00.000Z', '2026-03-29T01:10:00.000Z', 3_600_000)).toEqual({
      runAt: null,
      missedFrom: '2026-03-28T01:00:00.000Z',
      next: '2026-03-30T00:00:00.000Z',
    });
  });

  it('autumn fold, fixed 02:30: only the first 02:30 runs, never the repeated one', () => {
    // 25 October 02:30 CEST is 00:30Z; the repeated 02:30 CET (01:30Z) is no planned time.
    expect(berlin('30 2 * * *', '2026-10-24T00:30:00.000Z', '2026-10-25T01:45:00.000Z', 7_200_000)).toEqual({
      runAt: '2026-10-25T00:30:00.000Z',
      missedFrom: '2026-10-24T00:30:00.000Z',
      next: '2026-10-26T01:30:00.000Z',
    });
  });

  it('autumn fold, hourly and every 15 minutes: both passes of the repeated hour are planned times', () => {
    expect(berlin('0 * * * *', '2026-10-25T00:00:00.000Z', '2026-10-25T01:00:30.000Z')).toEqual({
      runAt: '2026-10-25T01:00:00.000Z',
      missedFrom: '2026-10-25T00:00:00.000Z',
      next: '2026-10-25T02:00:00.000Z',
    });
    expect(berlin('*/15 * * * *', '2026-10-25T00:45:00.000Z', '2026-10-25T01:20:00.000Z', 600_000)).toEqual({
      runAt: '2026-10-25T01:15:00.000Z',
      missedFrom: '2026-10-25T00:45:00.000Z',
      next: '2026-10-25T01:30:00.000Z',
    });
  });

  it('every minute after five days down, across the spring gap: the last minute runs', () => {
    expect(berlin('* * * * *', '2026-03-25T10:00:00.000Z', '2026-03-30T10:00:30.000Z')).toEqual({
      runAt: '2026-03-30T10:00:00.000Z',
      missedFrom: '2026-03-25T10:00:00.000Z',
      next: '2026-03-30T10:01:00.000Z',
    });
  });

  it('every minute after five years down costs the window, not the downtime', () => {
    // Walking from the first due time would be ~2.6 million minutes (seconds
    // of work); from the window's start it is five.
    const started = performance.now();
    expect(berlin('* * * * *', '2021-06-15T12:00:00.000Z', '2026-06-15T12:00:30.000Z')).toEqual({
      runAt: '2026-06-15T12:00:00.000Z',
      missedFrom: '2021-06-15T12:00:00.000Z',
      next: '2026-06-15T12:01:00.000Z',
    });
    // The longest window allowed (7 days of minutes) stays bounded too.
    expect(berlin('* * * * *', '2021-06-15T12:00:00.000Z', '2026-06-15T12:00:30.000Z', 7 * 86_400_000).runAt).toBe(
      '2026-06-15T12:00:00.000Z',
    );
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('retryDelayMs', () => {
  it('waits between half and all of base·2^(attempt−1) ("equal jitter")', () => {
    for (const base of [1000, 1500, 250]) {
      for (let attempt = 1; attempt <= 6; attempt++) {
        const d = base * 2 ** (attempt - 1);
        expect(retryDelayMs({ retryBaseMs: base }, attempt, () => 0)).toBe(Math.round(d / 2));
        expect(retryDelayMs({ retryBaseMs: base }, attempt, () => 0.5)).toBe(Math.round(0.75 * d));
        expect(retryDelayMs({ retryBaseMs: base }, attempt, () => 0.999_999)).toBe(Math.round(d));
        for (let i = 0; i < 10; i++) {
          const delay = retryDelayMs({ retryBaseMs: base }, attempt);
          expect(delay).toBeGreaterThanOrEqual(Math.round(d / 2));
          expect(delay).toBeLessThanOrEqual(d);
          expect(Number.isInteger(delay)).toBe(true);
        }
      }
    }
  });

  it('spreads retries: Math.random gives more than one delay', () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryDelayMs({ retryBaseMs: 1000 }, 3)));
    expect(delays.size).toBeGreaterThan(1);
  });
});

describe('leaseMs', () => {
  it('is the timeout plus a margin of the timeout itself, kept within 1 to 5 s', () => {
    expect(leaseMs({ timeoutMs: 30_000 })).toBe(35_000);
    expect(leaseMs({ timeoutMs: 5_000 })).toBe(10_000);
    expect(leaseMs({ timeoutMs: 3_000 })).toBe(6_000);
    expect(leaseMs({ timeoutMs: 1_000 })).toBe(3_000);
    expect(leaseMs({ timeoutMs: 500 })).toBe(2_500);
    expect(leaseMs({ timeoutMs: 3_600_000 })).toBe(3_605_000);
  });
});
