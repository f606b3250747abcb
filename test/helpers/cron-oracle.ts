// A brute-force oracle for the schedule engine, independent of croner and of
// src/: it walks every real minute, takes the zone's offset from luxon, and
// matches wall times against field sets directly. The DST rules (ISC/Vixie):
// a gap's skipped wall times run once at the first minute after it (fixed
// crontabs only); a fixed crontab skips wall times it has already seen (folds);
// an elapsed-time crontab runs at every minute whose wall time matches.
import { IANAZone } from 'luxon';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A crontab as the sets of values each field allows. Day of week 0–7, 7 being Sunday too. */
export interface CronSets {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  doms: ReadonlySet<number>;
  months: ReadonlySet<number>;
  dows: ReadonlySet<number>;
  /**
   * The day-of-month / day-of-week field is a bare `*`: then the other alone
   * decides; else either matches. croner's reading: Vixie cron also counts
   * `*\/2` as a star, croner (and so this engine) does not.
   */
  domStar: boolean;
  dowStar: boolean;
  /** Neither the minute nor the hour field has `*` or `/`. */
  fixed: boolean;
}

export interface OracleRun {
  at: number;
  local: string;
  shifted: boolean;
}

// zone → hour (epoch ms) → offset in minutes. Luxon is asked once per hour
// boundary; an hour whose two ends differ is asked minute by minute.
const hourOffsets = new Map<string, Map<number, number>>();

function offsetMinutes(zone: string, ms: number): number {
  const luxonZone = IANAZone.create(zone);
  const hours = hourOffsets.get(zone) ?? new Map<number, number>();
  hourOffsets.set(zone, hours);
  const at = (h: number) => {
    const o = hours.get(h) ?? luxonZone.offset(h);
    hours.set(h, o);
    return o;
  };
  const h = Math.floor(ms / HOUR) * HOUR;
  const o = at(h);
  return o === at(h + HOUR) ? o : luxonZone.offset(ms);
}

/** The instants in (startMs, endMs] where the offset changes (to the minute), from luxon. */
export function offsetChanges(zone: string, startMs: number, endMs: number): number[] {
  const changes: number[] = [];
  for (let h = Math.floor(startMs / HOUR) * HOUR; h < endMs; h += HOUR) {
    if (offsetMinutes(zone, h) === offsetMinutes(zone, h + HOUR)) continue;
    for (let m = h + MINUTE; m <= h + HOUR; m += MINUTE) {
      if (offsetMinutes(zone, m) !== offsetMinutes(zone, m - MINUTE) && m > startMs && m <= endMs) changes.push(m);
    }
  }
  return changes;
}

function matcher(sets: CronSets): (wall: number) => boolean {
  let cachedDay = Number.NaN;
  let dayOk = false;
  return (wall) => {
    const day = Math.floor(wall / DAY);
    if (day !== cachedDay) {
      const d = new Date(day * DAY);
      const dow = d.getUTCDay();
      const domOk = sets.doms.has(d.getUTCDate());
      const dowOk = sets.dows.has(dow) || (dow === 0 && sets.dows.has(7));
      const either = sets.domStar || sets.dowStar ? domOk && dowOk : domOk || dowOk;
      dayOk = sets.months.has(d.getUTCMonth() + 1) && either;
      cachedDay = day;
    }
    if (!dayOk) return false;
    const minuteOfDay = (wall - day * DAY) / MINUTE;
    return sets.hours.has(Math.floor(minuteOfDay / 60)) && sets.minutes.has(minuteOfDay % 60);
  };
}

function formatLocal(wall: number, offset: number): string {
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${new Date(wall).toISOString().slice(0, 19)}${offset < 0 ? '-' : '+'}${hh}:${mm}`;
}

/** Every run in (startMs, endMs], minute by minute. Starts walking a day early, to know what walls were seen. */
export function oracleRuns(sets: CronSets, zone: string, startMs: number, endMs: number): OracleRun[] {
  const matches = matcher(sets);
  const runs: OracleRun[] = [];
  const first = startMs - DAY;
  let prevWall = first - MINUTE + offsetMinutes(zone, first - MINUTE) * MINUTE;
  let maxWall = prevWall;
  for (let m = first; m <= endMs; m += MINUTE) {
    const offset = offsetMinutes(zone, m);
    const wall = m + offset * MINUTE;
    let run: boolean;
    let shifted = false;
    if (!sets.fixed) {
      run = matches(wall);
    } else if (wall <= maxWall) {
      run = false; // a fold: this wall time has already run (or not) once
    } else {
      run = matches(wall);
      if (!run) {
        for (let skipped = prevWall + MINUTE; skipped < wall; skipped += MINUTE) {
          if (matches(skipped)) {
            run = shifted = true;
            break;
          }
        }
      }
    }
    if (run && m > startMs) runs.push({ at: m, local: formatLocal(wall, offset), shifted });
    prevWall = wall;
    maxWall = Math.max(maxWall, wall);
  }
  return runs;
}
