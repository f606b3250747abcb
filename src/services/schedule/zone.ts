// UTC offsets and their transitions for an IANA zone, read from Intl (the
// runtime's tz data). Offsets are in milliseconds: wall clock minus UTC.

const SECOND = 1000;
const DAY = 86_400_000;

/** A change of offset: from `at` (epoch ms) on, the offset is `after`. */
export interface Transition {
  at: number;
  before: number;
  after: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    // Bounded: Intl also accepts every spelling of a name in any letter case.
    if (formatters.size >= 1000) formatters.clear();
    formatters.set(zone, f);
  }
  return f;
}

// en-US with these options formats as "3/8/2026, 03:00:00"; format() and a
// regex is three times faster than formatToParts, which stays as a fallback.
const EN_US = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/;

/** The offset of `zone` at instant `ms`. Throws RangeError for a zone Intl does not know. */
export function offsetMsAt(zone: string, ms: number): number {
  const whole = Math.floor(ms / SECOND) * SECOND;
  const f = formatter(zone);
  const m = EN_US.exec(f.format(whole));
  let wall: number;
  if (m) {
    wall = Date.UTC(+m[3]!, +m[1]! - 1, +m[2]!, +m[4]!, +m[5]!, +m[6]!);
  } else {
    const p: Record<string, number> = {};
    for (const part of f.formatToParts(whole)) p[part.type] = Number(part.value);
    wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  }
  return wall - whole;
}

export function offsetMinutesAt(zone: string, ms: number): number {
  return offsetMsAt(zone, ms) / 60_000;
}

/** One UTC year of a zone: its offset when the year starts, and its transitions in (from, to]. */
interface ZoneYear {
  from: number;
  offset: number;
  transitions: Transition[];
}

// Enough for every zone over the years nextRuns(after) can reach (±10 years), so a
// client cannot keep it cold; an entry is a few transitions.
const MAX_YEARS = 20_000;
const years = new Map<string, ZoneYear>();

// Samples the offset once a day, then binary-searches each change to the
// second: ~370 Intl calls (≈1 ms) per zone and year, once. An offset that
// changes and changes back within one day would be missed; no zone does that.
function scanYear(zone: string, year: number): ZoneYear {
  const from = Date.UTC(year, 0, 1);
  const to = Date.UTC(year + 1, 0, 1);
  const transitions: Transition[] = [];
  const first = offsetMsAt(zone, from);
  let prev = first;
  for (let day = from; day < to; day += DAY) {
    const next = offsetMsAt(zone, day + DAY);
    let lo = day;
    let before = prev;
    while (before !== next) {
      let hi = day + DAY;
      while (hi - lo > SECOND) {
        const mid = lo + Math.floor((hi - lo) / (2 * SECOND)) * SECOND;
        if (offsetMsAt(zone, mid) === before) lo = mid;
        else hi = mid;
      }
      const after = offsetMsAt(zone, hi);
      transitions.push({ at: hi, before, after });
      lo = hi;
      before = after;
    }
    prev = next;
  }
  return { from, offset: first, transitions };
}

function zoneYear(zone: string, year: number): ZoneYear {
  const key = `${zone}\n${year}`;
  let y = years.get(key);
  if (!y) {
    y = scanYear(zone, year);
    if (years.size >= MAX_YEARS) years.delete(years.keys().next().value!);
    years.set(key, y);
  }
  return y;
}

const yearOf = (ms: number) => new Date(ms).getUTCFullYear();

/** The offset at `ms`, from the cached transitions (no Intl call once the year is known). */
export function offsetAt(zone: string, ms: number): number {
  const y = zoneYear(zone, yearOf(ms));
  let offset = y.offset;
  for (const t of y.transitions) if (t.at <= ms) offset = t.after;
  return offset;
}

/** The first transition after `ms` and at or before `limit`, or null. */
export function nextTransition(zone: string, ms: number, limit: number): Transition | null {
  for (let year = yearOf(ms); Date.UTC(year, 0, 1) < limit; year++) {
    for (const t of zoneYear(zone, year).transitions) {
      if (t.at > limit) return null;
      if (t.at > ms) return t;
    }
  }
  return null;
}

/** The last transition at or before `ms` and after `ms - lookback`, or null. */
export function previousTransition(zone: string, ms: number, lookback: number): Transition | null {
  // Year Y lists the transitions in (Y-01-01, (Y+1)-01-01].
  for (let year = yearOf(ms); Date.UTC(year + 1, 0, 1) > ms - lookback; year--) {
    const ts = zoneYear(zone, year).transitions;
    for (let i = ts.length - 1; i >= 0; i--) {
      const t = ts[i]!;
      if (t.at <= ms - lookback) return null;
      if (t.at <= ms) return t;
    }
  }
  return null;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** ISO 8601 wall time at `ms` with `offset`, seconds included: "2026-03-08T03:00:00-04:00", "+00:00" for UTC. */
export function formatLocal(ms: number, offset: number): string {
  const wall = new Date(ms + offset).toISOString().slice(0, 19);
  const abs = Math.abs(offset) / SECOND;
  const seconds = abs % 60; // only local mean time, before ~1900, has offsets in seconds
  const hhmm = `${pad(Math.floor(abs / 3600))}:${pad(Math.floor(abs / 60) % 60)}`;
  return `${wall}${offset < 0 ? '-' : '+'}${hhmm}${seconds ? `:${pad(seconds)}` : ''}`;
}
