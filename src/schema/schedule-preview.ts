import { RateLimitedError, UnauthorizedError, ValidationError } from '../services/errors.js';
import { MAX_CRONTAB_LENGTH, MAX_PLANNED_RUNS, MAX_TIMEZONE_LENGTH } from '../services/input-limits.js';
import { type SchedulePreview as Preview, schedulePreview } from '../services/schedule/preview.js';
import { builder } from './builder.js';
import { FrequencyEnum } from './enums.js';
import { PlannedRun } from './planned-run.js';

const SchedulePreview = builder.objectRef<Preview>('SchedulePreview').implement({
  description: 'A schedule as a form shows it while someone types it: in words, and when it would run.',
  fields: (t) => ({
    crontab: t.exposeString('crontab', { description: 'The crontab as it would be stored (whitespace normalised).' }),
    timezone: t.exposeString('timezone', { description: 'The time zone as it would be stored.' }),
    description: t.exposeString('description', { description: 'The crontab in words (times in the time zone).' }),
    nextRuns: t.field({
      type: [PlannedRun],
      description: 'Its next runs from now, daylight-saving changes applied.',
      resolve: (p) => p.nextRuns,
    }),
  }),
});

const SchedulePreviewResult = builder.errorUnion('SchedulePreviewResult', {
  description: 'The preview, or why the schedule is not valid.',
  types: [SchedulePreview, UnauthorizedError, RateLimitedError, ValidationError],
  resolveType: () => 'SchedulePreview',
});

builder.queryField('schedulePreview', (t) =>
  t.field({
    type: SchedulePreviewResult,
    nullable: true,
    description:
      'Describes a crontab and lists its next runs from now, validated as createTask validates a crontab and time zone ' +
      '(and, with `frequency`, that the crontab has its shape). Any plan; ' +
      'counts against the rate limit (debounce calls from a form); changes nothing and consumes no quota.',
    args: {
      crontab: t.arg.string({
        required: true,
        description: `Five-field Unix crontab, at most ${MAX_CRONTAB_LENGTH} characters.`,
      }),
      timezone: t.arg.string({
        required: true,
        description: `IANA time zone, at most ${MAX_TIMEZONE_LENGTH} characters.`,
      }),
      count: t.arg.int({ required: false, defaultValue: 5, description: `How many runs, 1 to ${MAX_PLANNED_RUNS}.` }),
      frequency: t.arg({
        type: FrequencyEnum,
        required: false,
        description: 'The frequency the form has chosen: the crontab must then have its shape, as createTask requires.',
      }),
    },
    resolve: (_, args, { session }) => schedulePreview(session, args),
  }),
);
