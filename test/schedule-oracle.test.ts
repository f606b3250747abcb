// The schedule engine against a brute-force oracle (test/helpers/cron-oracle.ts):
// random crontabs in random zones, a year of runs each, compared exactly.
// The seed is random per run and in every case's name; ORACLE_SEED=<n> replays one.
import { describe, expect, it } from 'vitest';
import { compileSchedule } from '../src/services/schedule/planned-runs.js';
import { type CronSets, offsetChanges, oracleRuns } from './helpers/cron-oracle.js';

const SEED = Number(process.env.ORACLE_SEED ?? Math.floor(Math.random() * 2 ** 32));
const CASES = 50;
const START = Date.UTC(2026, 0, 1);
const END = Date.UTC(2027, 0, 1);

// mulberry32
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const random = prng(SEED);
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

const range = (lo: number, hi: number, step = 1) => {
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
};

/** One field: its text and the values it allows. `hot` values (DST hours, quarter hours) are picked more often. */
function field(lo: number, hi: number, hot: readonly number[], allowStar: boolean): { text: string; values: number[] } {
  const value = () => (random() < 0.6 ? pick(hot) : int(lo, hi));
  const kind = random();
  if (allowStar && kind < 0.2) return { text: '*', values: range(lo, hi) };
  if (allowStar && kind < 0.35) {
    const step = int(2, Math.max(2, Math.floor((hi - lo) / 2)));
    return { text: `*/${step}`, values: range(lo, hi, step) };
  }
  if (kind < 0.55) {
    const v = value();
    return { text: String(v), values: [v] };
  }
  if (kind < 0.7) {
    const a = value();
    const b = int(a, Math.min(hi, a + int(0, 6)));
    return { text: `${a}-${b}`, values: range(a, b) };
  }
  if (kind < 0.8) {
    const a = int(lo, hi - 1);
    const b = int(a + 1, hi);
    const step = int(1, Math.max(1, b - a));
    return { text: `${a}-${b}/${step}`, values: range(a, b, step) };
  }
  // a list, possibly with a range in it
  const parts = Array.from({ length: int(2, 4) }, () => {
    const a = value();
    if (random() < 0.3 && a < hi) {
      const b = int(a + 1, Math.min(hi, a + 3));
      return { text: `${a}-${b}`, values: range(a, b) };
    }
    return { text: String(a), values: [a] };
  });
  return { text: parts.map((p) => p.text).join(','), values: parts.flatMap((p) => p.values) };
}

// DST changes happen between 23:00 and 04:00 local in the named zones.
const DST_HOURS = ['0-3,23', '0-3,23', '1-3', '1,2', '2', '2-3', '3,2,1', '0,23'];

function hourList(text: string): { text: string; values: number[] } {
  const values = text.split(',').flatMap((part) => {
    const [a, b = a] = part.split('-').map(Number);
    return range(a!, b!);
  });
  return { text, values };
}

/** `focused`: daily, at hours where the named zones change offset, so fixed crontabs meet gaps and folds. */
function crontab(focused: boolean): { text: string; sets: CronSets } {
  const minute = field(0, 59, [0, 15, 30, 45, 50], random() < 0.3);
  const hour = focused ? hourList(pick(DST_HOURS)) : field(0, 23, [0, 1, 2, 3, 23], random() < 0.5);
  const star = (lo: number, hi: number) => ({ text: '*', values: range(lo, hi) });
  const daily = focused || random() < 0.3;
  const dom = daily ? star(1, 31) : field(1, 31, [1, 5, 6, 29, 30, 31], true);
  const month = daily ? star(1, 12) : field(1, 12, [3, 4, 9, 10, 11], true);
  const dow = daily ? star(0, 6) : field(0, 7, [0, 6, 7], true);
  const text = [minute, hour, dom, month, dow].map((f) => f.text).join(' ');
  return {
    text,
    sets: {
      minutes: new Set(minute.values),
      hours: new Set(hour.values),
      doms: new Set(dom.values),
      months: new Set(month.values),
      dows: new Set(dow.values),
      domStar: dom.text === '*',
      dowStar: dow.text === '*',
      fixed: !/[*/]/.test(minute.text + hour.text),
    },
  };
}

const NAMED_ZONES = [
  'America/New_York',
  'Europe/Berlin',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'America/Santiago',
  'Pacific/Chatham',
  'Europe/London',
  'Etc/UTC',
];
const ALL_ZONES = Intl.supportedValuesOf('timeZone');

const cases = Array.from({ length: CASES }, (_, i) => ({
  ...crontab(i < 2 * NAMED_ZONES.length),
  zone: i < 30 ? NAMED_ZONES[i % NAMED_ZONES.length]! : pick(ALL_ZONES),
}));

const key = (r: { at: number; local: string; shifted: boolean }) =>
  `${new Date(r.at).toISOString()} ${r.local}${r.shifted ? ' shifted' : ''}`;

describe(`schedule engine vs brute-force oracle (ORACLE_SEED=${SEED})`, () => {
  it.each(cases)(`seed ${SEED}: $text in $zone`, ({ text, sets, zone }) => {
    const schedule = compileSchedule(text, zone);
    expect(schedule, `croner refused '${text}'`).not.toBeNull();
    const actual: string[] = [];
    for (let after = START; ; ) {
      const batch = schedule!.runsAfter(after, 5000);
      for (const r of batch) if (r.at.getTime() <= END) actual.push(key({ ...r, at: r.at.getTime() }));
      if (batch.length < 5000 || batch.at(-1)!.at.getTime() >= END) break;
      after = batch.at(-1)!.at.getTime();
    }
    const oracle = oracleRuns(sets, zone, START, END);
    const expected = oracle.map(key);
    const i = expected.findIndex((e, j) => e !== actual[j]);
    const at = i === -1 ? expected.length : i;
    const context = `seed ${SEED}, '${text}' in ${zone}, run #${at}`;
    expect(actual.slice(at, at + 3), context).toEqual(expected.slice(at, at + 3));
    expect(actual.length, context).toBe(expected.length);

    // Asked from around each offset change (inside a fold too), the next runs
    // are still those of the year-long walk.
    for (const change of offsetChanges(zone, START, END)) {
      for (const delta of [-61, -1, 0, 1, 29, 59, 61]) {
        const after = change + delta * 60_000;
        const next = schedule!.runsAfter(after, 3).filter((r) => r.at.getTime() <= END);
        const context = `seed ${SEED}, '${text}' in ${zone}, after ${new Date(after).toISOString()}`;
        expect(
          next.map((r) => key({ ...r, at: r.at.getTime() })),
          context,
        ).toEqual(
          oracle
            .filter((r) => r.at > after)
            .slice(0, next.length === 3 ? 3 : undefined)
            .map(key),
        );
      }
    }
  });
});
