// Stored crontabs are parsed once (nextRunAt is read far more often than a
// schedule changes). The cache must answer exactly what a fresh parse does,
// for every (crontab, time zone) pair: a differential check.
import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { compiledCron } from '../src/services/tasks/cron.js';

const PATTERNS = [
  '* * * * *',
  '0 * * * *',
  '0 0 * * *',
  '34 9 28 * *',
  '0 9 * * 1-5',
  '30 2 * * *',
  '0 0 29 2 *',
  '*/7 3-5 * 1,6 0',
];
const ZONES = ['Etc/UTC', 'Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
const INSTANTS = [
  '2026-03-08T06:59:00Z',
  '2026-03-29T00:30:00Z',
  '2026-10-25T00:59:59Z',
  '2026-11-01T05:00:00Z',
  '2028-02-28T12:00:00Z',
];

describe('compiledCron', () => {
  it('answers exactly what a fresh parse answers, for every crontab, zone and instant', () => {
    let compared = 0;
    for (let round = 0; round < 2; round++) {
      for (const pattern of PATTERNS) {
        for (const zone of ZONES) {
          for (const at of INSTANTS) {
            const fresh = new Cron(pattern, { timezone: zone, paused: true }).nextRun(new Date(at));
            expect(compiledCron(pattern, zone)?.nextRun(new Date(at))?.toISOString(), `${pattern} ${zone} ${at}`).toBe(
              fresh?.toISOString(),
            );
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(2 * PATTERNS.length * ZONES.length * INSTANTS.length);
  });

  it('keys on the time zone as well as the crontab', () => {
    const at = new Date('2026-06-15T12:00:00Z');
    expect(compiledCron('0 9 * * *', 'Etc/UTC')!.nextRun(at)!.toISOString()).toBe('2026-06-16T09:00:00.000Z');
    expect(compiledCron('0 9 * * *', 'Europe/Paris')!.nextRun(at)!.toISOString()).toBe('2026-06-16T07:00:00.000Z');
  });

  it('parses a crontab once, and answers null for one that does not parse', () => {
    expect(compiledCron('5 4 * * *', 'Etc/UTC')).toBe(compiledCron('5 4 * * *', 'Etc/UTC'));
    expect(compiledCron('99 * * * *', 'Etc/UTC')).toBeNull();
  });
});
