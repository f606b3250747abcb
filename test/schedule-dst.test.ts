// The DST contract (ISC/Vixie cron's rules), as a table of exact instants
// written by hand. 2026 transitions: New York 03-08 07:00Z (EST→EDT) and
// 11-01 06:00Z (EDT→EST); Berlin 03-29 01:00Z and 10-25 01:00Z; Lord Howe
// 04-04 15:00Z (+11:00→+10:30, walls 01:30–02:00 repeat) and 10-03 15:30Z
// (+10:30→+11:00, walls 02:00–02:30 do not exist).
import { describe, expect, it } from 'vitest';
import { describeSchedule } from '../src/services/schedule/describe.js';
import { buildSchedule, compileSchedule, type PlannedRun } from '../src/services/schedule/planned-runs.js';

/** [at, local] or [at, local, 'shifted']. */
type Row = [string, string] | [string, string, 'shifted'];

const CASES: { name: string; crontab: string; zone: string; after: string; runs: Row[] }[] = [
  // New York, spring forward
  {
    name: 'fixed, in the gap: runs at the transition, shifted',
    crontab: '30 2 * * *',
    zone: 'America/New_York',
    after: '2026-03-07T08:00:00Z',
    runs: [
      ['2026-03-08T07:00:00Z', '2026-03-08T03:00:00-04:00', 'shifted'],
      ['2026-03-09T06:30:00Z', '2026-03-09T02:30:00-04:00'],
    ],
  },
  {
    name: 'fixed, two gap times: one shifted run',
    crontab: '0,30 2 * * *',
    zone: 'America/New_York',
    after: '2026-03-08T00:00:00Z',
    runs: [
      ['2026-03-08T07:00:00Z', '2026-03-08T03:00:00-04:00', 'shifted'],
      ['2026-03-09T06:00:00Z', '2026-03-09T02:00:00-04:00'],
    ],
  },
  {
    name: 'fixed, the instant after the gap matches on its own: one run, not shifted',
    crontab: '0 2,3 * * *',
    zone: 'America/New_York',
    after: '2026-03-08T00:00:00Z',
    runs: [
      ['2026-03-08T07:00:00Z', '2026-03-08T03:00:00-04:00'],
      ['2026-03-09T06:00:00Z', '2026-03-09T02:00:00-04:00'],
    ],
  },
  {
    name: 'elapsed, every 15 minutes: 01:45 EST then 03:00 EDT',
    crontab: '*/15 * * * *',
    zone: 'America/New_York',
    after: '2026-03-08T06:30:00Z',
    runs: [
      ['2026-03-08T06:45:00Z', '2026-03-08T01:45:00-05:00'],
      ['2026-03-08T07:00:00Z', '2026-03-08T03:00:00-04:00'],
      ['2026-03-08T07:15:00Z', '2026-03-08T03:15:00-04:00'],
    ],
  },
  {
    name: 'elapsed, hourly: no 02:00, no shifted run',
    crontab: '0 * * * *',
    zone: 'America/New_York',
    after: '2026-03-08T05:30:00Z',
    runs: [
      ['2026-03-08T06:00:00Z', '2026-03-08T01:00:00-05:00'],
      ['2026-03-08T07:00:00Z', '2026-03-08T03:00:00-04:00'],
      ['2026-03-08T08:00:00Z', '2026-03-08T04:00:00-04:00'],
    ],
  },
  {
    name: 'elapsed, every minute of the 2 a.m. hour: none that day',
    crontab: '* 2 * * *',
    zone: 'America/New_York',
    after: '2026-03-08T06:58:00Z',
    runs: [
      ['2026-03-09T06:00:00Z', '2026-03-09T02:00:00-04:00'],
      ['2026-03-09T06:01:00Z', '2026-03-09T02:01:00-04:00'],
    ],
  },
  // New York, fall back
  {
    name: 'fixed, in the repeated hour: the first occurrence only',
    crontab: '30 1 * * *',
    zone: 'America/New_York',
    after: '2026-10-31T12:00:00Z',
    runs: [
      ['2026-11-01T05:30:00Z', '2026-11-01T01:30:00-04:00'],
      ['2026-11-02T06:30:00Z', '2026-11-02T01:30:00-05:00'],
    ],
  },
  {
    name: 'fixed, asked from inside the second pass: not again',
    crontab: '30 1 * * *',
    zone: 'America/New_York',
    after: '2026-11-01T06:10:00Z',
    runs: [['2026-11-02T06:30:00Z', '2026-11-02T01:30:00-05:00']],
  },
  {
    name: 'fixed list, in the repeated hour: once each',
    crontab: '0,30 1 * * *',
    zone: 'America/New_York',
    after: '2026-11-01T04:00:00Z',
    runs: [
      ['2026-11-01T05:00:00Z', '2026-11-01T01:00:00-04:00'],
      ['2026-11-01T05:30:00Z', '2026-11-01T01:30:00-04:00'],
      ['2026-11-02T06:00:00Z', '2026-11-02T01:00:00-05:00'],
    ],
  },
  {
    name: 'elapsed, every 15 minutes: 15-minute spacing through the repeated hour',
    crontab: '*/15 * * * *',
    zone: 'America/New_York',
    after: '2026-11-01T05:30:00Z',
    runs: [
      ['2026-11-01T05:45:00Z', '2026-11-01T01:45:00-04:00'],
      ['2026-11-01T06:00:00Z', '2026-11-01T01:00:00-05:00'],
      ['2026-11-01T06:15:00Z', '2026-11-01T01:15:00-05:00'],
      ['2026-11-01T06:30:00Z', '2026-11-01T01:30:00-05:00'],
      ['2026-11-01T06:45:00Z', '2026-11-01T01:45:00-05:00'],
      ['2026-11-01T07:00:00Z', '2026-11-01T02:00:00-05:00'],
    ],
  },
  {
    name: 'elapsed, hourly: 01:00 EDT and 01:00 EST',
    crontab: '0 * * * *',
    zone: 'America/New_York',
    after: '2026-11-01T04:30:00Z',
    runs: [
      ['2026-11-01T05:00:00Z', '2026-11-01T01:00:00-04:00'],
      ['2026-11-01T06:00:00Z', '2026-11-01T01:00:00-05:00'],
      ['2026-11-01T07:00:00Z', '2026-11-01T02:00:00-05:00'],
    ],
  },
  // Berlin
  {
    name: 'Berlin, fixed, spring forward: 02:30 runs at 03:00 CEST, shifted',
    crontab: '30 2 * * *',
    zone: 'Europe/Berlin',
    after: '2026-03-28T00:00:00Z',
    runs: [
      ['2026-03-28T01:30:00Z', '2026-03-28T02:30:00+01:00'],
      ['2026-03-29T01:00:00Z', '2026-03-29T03:00:00+02:00', 'shifted'],
      ['2026-03-30T00:30:00Z', '2026-03-30T02:30:00+02:00'],
    ],
  },
  {
    name: 'Berlin, fixed, fall back: 02:30 CEST only',
    crontab: '30 2 * * *',
    zone: 'Europe/Berlin',
    after: '2026-10-24T12:00:00Z',
    runs: [
      ['2026-10-25T00:30:00Z', '2026-10-25T02:30:00+02:00'],
      ['2026-10-26T01:30:00Z', '2026-10-26T02:30:00+01:00'],
    ],
  },
  {
    name: 'Berlin, elapsed, spring forward',
    crontab: '*/15 * * * *',
    zone: 'Europe/Berlin',
    after: '2026-03-29T00:30:00Z',
    runs: [
      ['2026-03-29T00:45:00Z', '2026-03-29T01:45:00+01:00'],
      ['2026-03-29T01:00:00Z', '2026-03-29T03:00:00+02:00'],
      ['2026-03-29T01:15:00Z', '2026-03-29T03:15:00+02:00'],
    ],
  },
  {
    name: 'Berlin, elapsed, fall back: 02:00 CEST and 02:00 CET',
    crontab: '0 * * * *',
    zone: 'Europe/Berlin',
    after: '2026-10-24T23:30:00Z',
    runs: [
      ['2026-10-25T00:00:00Z', '2026-10-25T02:00:00+02:00'],
      ['2026-10-25T01:00:00Z', '2026-10-25T02:00:00+01:00'],
      ['2026-10-25T02:00:00Z', '2026-10-25T03:00:00+01:00'],
    ],
  },
  // Lord Howe: a 30-minute shift
  {
    name: 'Lord Howe, fixed, spring forward: 02:15 runs at 02:30 +11:00, shifted',
    crontab: '15 2 * * *',
    zone: 'Australia/Lord_Howe',
    after: '2026-10-02T00:00:00Z',
    runs: [
      ['2026-10-02T15:45:00Z', '2026-10-03T02:15:00+10:30'],
      ['2026-10-03T15:30:00Z', '2026-10-04T02:30:00+11:00', 'shifted'],
      ['2026-10-04T15:15:00Z', '2026-10-05T02:15:00+11:00'],
    ],
  },
  {
    name: 'Lord Howe, fixed, 02:45 exists: not shifted',
    crontab: '45 2 * * *',
    zone: 'Australia/Lord_Howe',
    after: '2026-10-03T12:00:00Z',
    runs: [['2026-10-03T15:45:00Z', '2026-10-04T02:45:00+11:00']],
  },
  {
    name: 'Lord Howe, fixed, fall back: 01:45 once',
    crontab: '45 1 * * *',
    zone: 'Australia/Lord_Howe',
    after: '2026-04-04T12:00:00Z',
    runs: [
      ['2026-04-04T14:45:00Z', '2026-04-05T01:45:00+11:00'],
      ['2026-04-05T15:15:00Z', '2026-04-06T01:45:00+10:30'],
    ],
  },
  {
    name: 'Lord Howe, elapsed, fall back: the half hour 01:30–02:00 twice',
    crontab: '*/15 * * * *',
    zone: 'Australia/Lord_Howe',
    after: '2026-04-04T14:30:00Z',
    runs: [
      ['2026-04-04T14:45:00Z', '2026-04-05T01:45:00+11:00'],
      ['2026-04-04T15:00:00Z', '2026-04-05T01:30:00+10:30'],
      ['2026-04-04T15:15:00Z', '2026-04-05T01:45:00+10:30'],
      ['2026-04-04T15:30:00Z', '2026-04-05T02:00:00+10:30'],
    ],
  },
  {
    name: 'Lord Howe, elapsed, spring forward: 01:45 then 02:30',
    crontab: '*/15 * * * *',
    zone: 'Australia/Lord_Howe',
    after: '2026-10-03T15:00:00Z',
    runs: [
      ['2026-10-03T15:15:00Z', '2026-10-04T01:45:00+10:30'],
      ['2026-10-03T15:30:00Z', '2026-10-04T02:30:00+11:00'],
      ['2026-10-03T15:45:00Z', '2026-10-04T02:45:00+11:00'],
    ],
  },
  // No DST
  {
    name: 'Kolkata: +05:30 all year',
    crontab: '0 0 * * *',
    zone: 'Asia/Kolkata',
    after: '2026-03-08T00:00:00Z',
    runs: [
      ['2026-03-08T18:30:00Z', '2026-03-09T00:00:00+05:30'],
      ['2026-03-09T18:30:00Z', '2026-03-10T00:00:00+05:30'],
    ],
  },
  {
    name: 'Kolkata, fixed at 02:30 on a DST day elsewhere: nothing special',
    crontab: '30 2 * * *',
    zone: 'Asia/Kolkata',
    after: '2026-11-01T00:00:00Z',
    runs: [['2026-11-01T21:00:00Z', '2026-11-02T02:30:00+05:30']],
  },
  // Calendar
  {
    name: 'on the 31st: skips 30-day months and February',
    crontab: '0 12 31 * *',
    zone: 'Etc/UTC',
    after: '2026-01-01T00:00:00Z',
    runs: [
      ['2026-01-31T12:00:00Z', '2026-01-31T12:00:00+00:00'],
      ['2026-03-31T12:00:00Z', '2026-03-31T12:00:00+00:00'],
      ['2026-05-31T12:00:00Z', '2026-05-31T12:00:00+00:00'],
      ['2026-07-31T12:00:00Z', '2026-07-31T12:00:00+00:00'],
      ['2026-08-31T12:00:00Z', '2026-08-31T12:00:00+00:00'],
      ['2026-10-31T12:00:00Z', '2026-10-31T12:00:00+00:00'],
      ['2026-12-31T12:00:00Z', '2026-12-31T12:00:00+00:00'],
      ['2027-01-31T12:00:00Z', '2027-01-31T12:00:00+00:00'],
    ],
  },
  {
    name: '29 February: next after 2026 is 2028',
    crontab: '0 0 29 2 *',
    zone: 'Etc/UTC',
    after: '2026-01-01T00:00:00Z',
    runs: [['2028-02-29T00:00:00Z', '2028-02-29T00:00:00+00:00']],
  },
  {
    name: 'day of month OR day of week, when both are restricted',
    crontab: '0 9 13 * 5',
    zone: 'Etc/UTC',
    after: '2026-02-01T00:00:00Z',
    runs: [
      ['2026-02-06T09:00:00Z', '2026-02-06T09:00:00+00:00'],
      ['2026-02-13T09:00:00Z', '2026-02-13T09:00:00+00:00'],
      ['2026-02-20T09:00:00Z', '2026-02-20T09:00:00+00:00'],
      ['2026-02-27T09:00:00Z', '2026-02-27T09:00:00+00:00'],
      ['2026-03-06T09:00:00Z', '2026-03-06T09:00:00+00:00'],
      ['2026-03-13T09:00:00Z', '2026-03-13T09:00:00+00:00'],
    ],
  },
];

const rows = (runs: PlannedRun[]): Row[] =>
  runs.map((r) => {
    const at = r.at.toISOString().replace('.000Z', 'Z');
    return r.shifted ? [at, r.local, 'shifted'] : [at, r.local];
  });

describe('planned runs across DST', () => {
  it.each(CASES)('$crontab in $zone after $after: $name', ({ crontab, zone, after, runs }) => {
    const schedule = compileSchedule(crontab, zone)!;
    expect(rows(schedule.runsAfter(Date.parse(after), runs.length))).toEqual(runs);
  });

  it('counts strictly after: a run exactly at afterMs is not returned', () => {
    const [run] = compileSchedule('30 2 * * *', 'America/New_York')!.runsAfter(Date.parse('2026-03-08T07:00:00Z'), 1);
    expect(run!.at.toISOString()).toBe('2026-03-09T06:30:00.000Z');
  });

  it('29 February: fewer runs than asked within the 10-year horizon', () => {
    const runs = compileSchedule('0 0 29 2 *', 'Etc/UTC')!.runsAfter(Date.parse('2026-01-01T00:00:00Z'), 100);
    expect(rows(runs).map((r) => r[0])).toEqual(['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z']);
  });

  it('a crontab that never fires has no runs', () => {
    expect(
      compileSchedule('0 0 30 2 *', 'America/New_York')!.runsAfter(Date.parse('2026-01-01T00:00:00Z'), 100),
    ).toEqual([]);
  });

  it('null for what croner refuses, or an unknown zone', () => {
    expect(compileSchedule('99 * * * *', 'Etc/UTC')).toBeNull();
    expect(compileSchedule('0 0 * * * *', 'Etc/UTC')).toBeNull();
    expect(compileSchedule('0 0 * * *', 'Not/AZone')).toBeNull();
  });

  it('the cache keys on crontab and zone, and answers what a fresh compile does', () => {
    const after = Date.parse('2026-06-15T12:00:00Z');
    for (const zone of ['Etc/UTC', 'Europe/Paris', 'Asia/Kolkata', 'America/New_York']) {
      const cached = compileSchedule('0 9 * * *', zone)!;
      expect(compileSchedule('0 9 * * *', zone)).toBe(cached);
      expect(cached.runsAfter(after, 5)).toEqual(buildSchedule('0 9 * * *', zone)!.runsAfter(after, 5));
    }
    expect(compileSchedule('0 9 * * *', 'Etc/UTC')!.runsAfter(after, 1)[0]!.local).toBe('2026-06-16T09:00:00+00:00');
    expect(compileSchedule('0 9 * * *', 'Europe/Paris')!.runsAfter(after, 1)[0]!.local).toBe(
      '2026-06-16T09:00:00+02:00',
    );
    expect(compileSchedule('0 9 * * *', 'Asia/Kolkata')!.runsAfter(after, 1)[0]!.at.toISOString()).toBe(
      '2026-06-16T03:30:00.000Z',
    );
  });
});

describe('describeSchedule', () => {
  it('uses 24-hour times', () => {
    expect(describeSchedule('34 9 28 * *')).toBe('At 09:34, on day 28 of the month');
    expect(describeSchedule('0 17 * * 1-5')).toBe('At 17:00, Monday through Friday');
  });

  it('falls back to the crontab when cronstrue cannot read it', () => {
    expect(describeSchedule('not a crontab')).toBe('not a crontab');
  });
});
