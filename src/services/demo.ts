// A demo account on an empty database, so `npm start` answers at once.
import type { Database } from '../db/client.js';
import { generateApiKey } from './api-keys.js';
import { importData } from './import.js';

export const DEMO_TASK_IDS = [
  '5650820808835072',
  'SC-1234-1234-1234-1234-1234-1234',
  'gsvyz98boa',
  'demo-running',
  'demo-cancelled',
];

/** Creates the demo account when the database has no account; returns its key, or null. */
export async function seedDemo(
  db: Database,
  now: number = Date.now(),
): Promise<{ apiKey: string; accountId: string } | null> {
  if ((await db.read.account.count()) > 0) return null;
  const apiKey = generateApiKey();
  const created = Math.floor(now / 1000);
  const task = (id: string, name: string, rest: Record<string, unknown>) => ({
    id,
    name,
    api: 'screenshot',
    query: 'url=https%3A%2F%2Fexample.com',
    frequency: 'every_day',
    timezone: 'Etc/UTC',
    created: created - DEMO_TASK_IDS.indexOf(id) * 3600,
    ...rest,
  });
  const report = await importData(
    db,
    {
      accounts: [
        {
          name: 'demo',
          plan: 'scale',
          quota: 1000,
          api_keys: [apiKey],
          tasks: [
            task('5650820808835072', 'Monthly screenshot', {
              frequency: 'every_month',
              crontab: '34 9 28 * *',
              runs: 12,
            }),
            task('SC-1234-1234-1234-1234-1234-1234', 'Hourly PDF', {
              api: 'pdf',
              frequency: 'every_hour',
              status: 'paused',
              enabled: false,
            }),
            task('gsvyz98boa', 'Weekday scrape', {
              api: 'scrape',
              frequency: 'custom',
              crontab: '0 9 * * 1-5',
              timezone: 'Europe/Paris',
              status: 'create_pending',
            }),
            task('demo-running', 'Screencast running now', { api: 'screencast', in_progress: true, runs: 3 }),
            task('demo-cancelled', 'Cancelled schedule', { status: 'cancelled', enabled: false }),
          ],
        },
      ],
    },
    now,
  );
  return { apiKey, accountId: report.accounts[0]!.id };
}
