// GraphQL enums over the Prisma enums: the value sets come from the generated
// client, so TypeScript fails the build if the database gains a value the API
// does not describe.
import { Billing, Frequency, Plan, ScheduleStatus, TaskApi } from '../db/models.js';
import { builder } from './builder.js';

type Described<T extends string> = Record<T, { description: string }>;

function prismaEnum<T extends string>(
  name: string,
  source: Record<string, T>,
  description: string,
  values: Described<T>,
) {
  // Every Prisma value is described (the Record type), and nothing else is.
  for (const v of Object.values(source)) if (!(v in values)) throw new Error(`${name}.${v} has no description`);
  return builder.enumType(name, { description, values });
}

export const PlanEnum = prismaEnum('Plan', Plan, 'Subscription plan of an account.', {
  FREE: { description: 'Free plan: no scheduled tasks.' },
  BASIC: { description: 'Basic plan: no scheduled tasks.' },
  GROWTH: { description: 'Growth plan: no scheduled tasks.' },
  SCALE: { description: 'Scale plan: the only plan with scheduled tasks.' },
});

export const BillingEnum = prismaEnum('Billing', Billing, 'Billing standing of an account.', {
  OK: { description: 'Invoices are paid.' },
  UNPAID: { description: 'An invoice is unpaid; task operations answer PaymentRequired.' },
});

export const TaskApiEnum = prismaEnum('TaskApi', TaskApi, 'The rendering API a task calls on each run.', {
  SCREENSHOT: { description: 'Takes a screenshot of a page.' },
  SCREENCAST: { description: 'Records a video of a page.' },
  PDF: { description: 'Renders a page to PDF.' },
  SCRAPE: { description: 'Extracts content from a page.' },
});

export const FrequencyEnum = prismaEnum(
  'Frequency',
  Frequency,
  'How often a task runs. A preset and its crontab must agree (create, update, import), else ValidationError.',
  {
    EVERY_MINUTE: { description: 'Every minute: the crontab is `* * * * *` (the default).' },
    EVERY_HOUR: { description: 'Once an hour: `m * * * *` with a single minute m (default `0 * * * *`).' },
    EVERY_DAY: { description: 'Once a day: `m h * * *` with a single minute and hour (default `0 0 * * *`).' },
    EVERY_MONTH: {
      description:
        'Once a month: `m h d * *` with a single minute, hour and day (default `0 0 1 * *`; days 29–31 skip shorter months).',
    },
    CUSTOM: { description: "On the task's own crontab, any valid one, which is then required." },
  },
);

export const ScheduleStatusEnum = prismaEnum('ScheduleStatus', ScheduleStatus, 'Lifecycle status of a schedule.', {
  ACTIVE: { description: 'Runs on its crontab (the only status that runs). Can be paused or cancelled.' },
  PAUSED: { description: 'Exists but does not run. Can be resumed or cancelled.' },
  CANCELLED: { description: 'Cancelled for good; final: can be read or deleted, not changed.' },
  ERROR: { description: 'Its last run failed. Can be resumed or cancelled.' },
  CREATE_PENDING: { description: 'Being created; not yet running. Can be cancelled.' },
  NON_EXISTING: { description: 'No longer exists at the provider; final: can be read or deleted, not changed.' },
});
