// When a five-field crontab fires in an IANA zone, by ISC/Vixie cron's DST
// rules. croner parses the crontab and matches calendar days (run at UTC
// offset 0 it is a pure wall-clock matcher); this file maps wall times to
// instants one segment of constant offset at a time:
// - a fixed crontab (no `*` or `/` in minute or hour) runs a wall time that a
//   spring-forward gap skips at the transition instant (`shifted`), and a wall
//   time that a fall-back fold repeats only the first time;
// - any other crontab follows real time: every instant whose wall time matches.
import { Cron, CronPattern } from 'croner';
import { formatLocal, nextTransition, offsetAt, offsetMsAt, previousTransition } from './zone.js';

export interface PlannedRun {
  /** The instant, UTC. */
  at: Date;
  /** ISO 8601 wall time with the zone's offset at that instant: "2026-03-08T03:00:00-04:00". */
  local: string;
  /** True only when this run exists because its wall time fell in a spring-forward gap. */
  shifted: boolean;
}

export interface CompiledSchedule {
  /**
   * The first `count` runs strictly after `afterMs` (epoch ms), in increasing
   * order, no duplicates. Fewer (possibly none) only when the schedule does not
   * fire that often within the search horizon, 10 years after `afterMs`. Every
   * schedule that fires at all fires within 8 years of any instant (29
   * February, across 2100), so the next run is always found; but
   * `runsAfter(t, 100)` of `0 0 29 2 *` returns only the two or three leap
   * days of those 10 years. Work grows with `count`: callers bound it.
   * Instants outside the years 1000–9000 answer [].
   */
  runsAfter(afterMs: number, count: number): PlannedRun[];
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const HORIZON = 3653 * DAY; // 10 years
// Real folds last an hour or two; a fold that started longer ago repeats nothing after `afterMs`.
const FOLD_LOOKBACK = 2 * DAY;
// Date.UTC reads years 0–99 as 19xx, and Intl writes eras for BC years: keep clear of both.
const EARLIEST = Date.UTC(1000, 0, 1);
const LATEST = Date.UTC(9000, 0, 1);

class Schedule implements CompiledSchedule {
  // croner's last two answers, newest first: no day in [from, day) matches,
  // `day` does (Infinity: none ever). Two, because runsAfter(now, 1) asks
  // about today and then the next matching day.
  private readonly memo = [0, -1, 0, -1];

  constructor(
    private readonly zone: string,
    private readonly days: Cron,
    /** Minute of the day → the first matching minute of the day at or after it, -1 if none. */
    private readonly minutes: Int16Array,
    private readonly fixed: boolean,
    private readonly never: boolean,
  ) {}

  /** The first matching day (wall ms at 00:00) at or after `day`, Infinity if none. */
  private dayFrom(day: number): number {
    const memo = this.memo;
    if (day >= memo[0]! && day <= memo[1]!) return memo[1]!;
    if (day >= memo[2]! && day <= memo[3]!) return memo[3]!;
    const next = this.days.nextRun(new Date(day - 1000));
    const found = next ? Math.floor(next.getTime() / DAY) * DAY : Number.POSITIVE_INFINITY;
    memo.unshift(day, found);
    memo.length = 4;
    return found;
  }

  /** The first matching wall time (as UTC epoch ms) at or after wall `w`. */
  private wallFrom(w: number): number {
    const t = Math.ceil(w / MINUTE) * MINUTE;
    const day = Math.floor(t / DAY) * DAY;
    if (this.dayFrom(day) === day) {
      const m = this.minutes[(t - day) / MINUTE]!;
      if (m >= 0) return day + m * MINUTE;
    }
    return this.dayFrom(day + DAY) + this.minutes[0]! * MINUTE;
  }

  runsAfter(afterMs: number, count: number): PlannedRun[] {
    const runs: PlannedRun[] = [];
    if (this.never || !(count > 0) || !(afterMs >= EARLIEST && afterMs < LATEST)) return runs;
    const { zone, fixed } = this;
    const push = (at: number, offset: number, shifted: boolean) =>
      runs.push({ at: new Date(at), local: formatLocal(at, offset), shifted }) >= count;
    const end = afterMs + HORIZON;
    let cursor = 0;
    let offset = 0;
    let from = 0;
    // A fixed crontab runs a repeated wall time once: walls below `seen` have occurred.
    let seen = Number.NEGATIVE_INFINITY;
    // Walks from instant `at` as if asked for the runs after it.
    const start = (at: number) => {
      cursor = at;
      offset = offsetAt(zone, at);
      from = at + offset + 1; // walls strictly after `at`
      seen = Number.NEGATIVE_INFINITY;
      const t = fixed ? previousTransition(zone, at, FOLD_LOOKBACK) : null;
      if (t && t.after < t.before) seen = t.at + t.before;
    };
    start(afterMs);
    let idle = false;
    while (cursor < end) {
      if (idle) {
        // A rare schedule (29 February): skip to 3 days before its next
        // matching wall time, so the years between are not scanned. No run
        // comes sooner: a run is within 14 hours of its matching wall time
        // (offset, or gap), and a fold brings back walls at most a day old.
        const skip = this.wallFrom(from - DAY) - 3 * DAY;
        if (skip >= end) break;
        if (skip > cursor + DAY) start(skip);
      }
      const found = runs.length;
      const limit = Math.min(end, Date.UTC(new Date(cursor).getUTCFullYear() + 1, 0, 1));
      // Segments also end with the UTC year: zones are scanned a year at a time, as needed.
      const t = nextTransition(zone, cursor, limit);
      const segmentEnd = t ? t.at : limit;
      const wallEnd = segmentEnd + offset;
      for (let w = this.wallFrom(Math.max(from, seen)); w < wallEnd; w = this.wallFrom(w + MINUTE)) {
        if (push(w - offset, offset, false)) return runs;
      }
      if (fixed) seen = Math.max(seen, wallEnd);
      if (t) {
        // Gap walls [at + before, at + after) do not exist. A fixed crontab
        // runs them at the transition, once; if the first wall after the gap
        // matches on its own, the next segment runs it, unshifted.
        const gapEnd = t.at + t.after;
        if (
          fixed &&
          t.after > t.before &&
          this.wallFrom(t.at + t.before) < gapEnd &&
          this.wallFrom(gapEnd) !== gapEnd
        ) {
          if (push(t.at, t.after, true)) return runs;
        }
        offset = t.after;
      }
      cursor = segmentEnd;
      from = cursor + offset;
      idle = runs.length === found;
    }
    return runs;
  }
}

/** An uncached compile; null when croner refuses the crontab or Intl the zone. */
export function buildSchedule(crontab: string, timezone: string): CompiledSchedule | null {
  try {
    offsetMsAt(timezone, 0);
    // 'no-wildcard': minute and hour without `*`, `?` or a step make a fixed crontab, lists and ranges included.
    const pattern = new CronPattern(crontab, 'Etc/UTC', { mode: '5-part', fixedTimeRule: 'no-wildcard' });
    const days = new Cron(crontab, { utcOffset: 0, paused: true, mode: '5-part' });
    const minutes = new Int16Array(1441).fill(-1);
    for (let m = 1439; m >= 0; m--) {
      minutes[m] = pattern.hour[Math.floor(m / 60)] && pattern.minute[m % 60] ? m : minutes[m + 1]!;
    }
    // Anything that fires at all fires within 8 years; croner gives up on the rest (~3 ms, once).
    const never = days.nextRun(new Date(0)) === null;
    return new Schedule(timezone, days, minutes, pattern.isFixedTime, never);
  } catch {
    return null;
  }
}

const MAX_ENTRIES = 1000;
const cache = new Map<string, CompiledSchedule | null>();

/**
 * The parsed schedule of a five-field crontab in an IANA zone; null when it
 * does not parse. Cached on both inputs, a bounded map, oldest evicted first.
 */
export function compileSchedule(crontab: string, timezone: string): CompiledSchedule | null {
  const key = `${timezone}\n${crontab}`;
  let schedule = cache.get(key);
  if (schedule === undefined) {
    schedule = buildSchedule(crontab, timezone);
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, schedule);
  }
  return schedule;
}
