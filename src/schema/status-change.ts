// cancelSchedule, pauseSchedule and resumeSchedule: one shape, three
// transitions (the rules are in services/tasks/status.ts).
import { InvalidStatusError, NotFoundError, ValidationError } from '../services/errors.js';
import { MAX_ID_LENGTH } from '../services/input-limits.js';
import type { Session } from '../services/session.js';
import type { StatusChanged } from '../services/tasks/change-status.js';
import { builder } from './builder.js';
import { ScheduleStatusEnum } from './enums.js';
import { WRITE_ACCESS_ERRORS } from './errors.js';
import { Task } from './task.js';

export function statusChangeField(options: {
  field: 'cancelSchedule' | 'pauseSchedule' | 'resumeSchedule';
  /** What happened, for the success type: "cancelled", "paused", "resumed". */
  verb: string;
  newStatus: string;
  description: string;
  change: (session: Session, id: string) => Promise<StatusChanged>;
}): void {
  const name = options.field[0]!.toUpperCase() + options.field.slice(1);
  const Success = builder.objectRef<StatusChanged>(`${name}Success`).implement({
    description: `The schedule was ${options.verb}; one unit of quota was consumed.`,
    fields: (t) => ({
      scheduleId: t.exposeID('scheduleId', { description: `Id of the ${options.verb} schedule (the task id).` }),
      oldStatus: t.field({ type: ScheduleStatusEnum, description: 'Status before.', resolve: (r) => r.oldStatus }),
      newStatus: t.field({
        type: ScheduleStatusEnum,
        description: `Status now: ${options.newStatus}.`,
        resolve: (r) => r.newStatus,
      }),
      task: t.field({
        type: Task,
        description: 'The task as it is now (updates client caches by id).',
        resolve: (r) => r.task,
      }),
    }),
  });
  const Result = builder.errorUnion(`${name}Result`, {
    description: `The ${options.verb} schedule, or why nothing changed.`,
    types: [Success, NotFoundError, InvalidStatusError, ...WRITE_ACCESS_ERRORS, ValidationError],
    resolveType: () => `${name}Success`,
  });
  builder.mutationField(options.field, (t) =>
    t.field({
      type: Result,
      nullable: true,
      description: `${options.description} Also limited per schedule id (RateLimited with scope SCHEDULE). Consumes one unit of quota.`,
      args: {
        id: t.arg.id({
          required: true,
          description: `The schedule (task) id (at most ${MAX_ID_LENGTH} characters, else ValidationError).`,
        }),
      },
      resolve: (_, { id }, { session }) => options.change(session, id),
    }),
  );
}
