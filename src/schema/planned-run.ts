import type { PlannedRun as PlannedRunValue } from '../services/schedule/planned-runs.js';
import { builder } from './builder.js';
import { DateTime } from './scalars.js';

export const PlannedRun = builder.objectRef<PlannedRunValue>('PlannedRun').implement({
  description: 'A time a schedule will run, in UTC and in its time zone.',
  fields: (t) => ({
    at: t.expose('at', { type: DateTime, description: 'The instant, in UTC.' }),
    local: t.exposeString('local', {
      description: "The same instant as local time with the zone's offset, e.g. `2026-03-08T03:00:00-04:00`.",
    }),
    shifted: t.exposeBoolean('shifted', {
      description:
        'The local time the crontab names does not exist that day (a spring-forward gap), so the run is at the first instant after the gap.',
    }),
  }),
});
