// GraphQL enums over the Prisma enums: the value sets come from the generated
// client, so TypeScript fails the build if the database gains a value the API
// does not describe.
import { Billing, Frequency, Plan, RunOutcome, RunTrigger, ScheduleStatus, SkipReason, TaskApi } from '../db/models.js';
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
  PAUSED: {
    description: 'Exists but does not run on its crontab (runTask still runs it once). Can be resumed or cancelled.',
  },
  CANCELLED: { description: 'Cancelled for good; final: can be read or deleted, not changed.' },
  ERROR: {
    description:
      'Its runs kept failing (RUN_FAILURES_TO_ERROR in a row, 5 by default), so it no longer runs. ' +
      'Can be resumed (which restarts the count) or cancelled; runTask still runs it once.',
  },
  CREATE_PENDING: { description: 'Being created; not yet running. Can be cancelled.' },
  NON_EXISTING: { description: 'No longer exists at the provider; final: can be read or deleted, not changed.' },
});

export const RunTriggerEnum = prismaEnum('RunTrigger', RunTrigger, 'What started a run.', {
  SCHEDULE: { description: 'A planned time of the crontab came.' },
  MANUAL: { description: 'runTask was called.' },
});

export const RunOutcomeEnum = prismaEnum('RunOutcome', RunOutcome, 'How a run went.', {
  RUNNING: { description: 'Executing now (the task is inProgress).' },
  SUCCEEDED: { description: 'The executor answered 2xx within the timeout.' },
  FAILED: { description: 'Every attempt failed (non-2xx or no connection); see httpStatus and error.' },
  TIMED_OUT: { description: 'The last attempt got no answer within the timeout.' },
  SKIPPED: { description: 'The time was not run; see skipReason.' },
});

export const SkipReasonEnum = prismaEnum('SkipReason', SkipReason, 'Why a planned time was not run.', {
  OVERLAP: { description: 'The previous run was still in progress.' },
  MISSED: {
    description:
      'No dispatcher ran at these times (downtime). Only the latest time within the catch-up window runs after it; ' +
      'one MISSED record covers the older ones, from scheduledFor on.',
  },
  PAYMENT_REQUIRED: { description: 'The account had an unpaid invoice.' },
  PLAN_UPGRADE_REQUIRED: { description: 'The account was not on the SCALE plan.' },
  QUOTA_EXCEEDED: { description: "The account's quota was used up (each run consumes one unit)." },
});
