import { InvalidStatusError, NotFoundError, ValidationError } from '../services/errors.js';
import { MAX_ID_LENGTH } from '../services/input-limits.js';
import { type CancelScheduleResult as Cancelled, cancelSchedule } from '../services/tasks/cancel.js';
import { builder } from './builder.js';
import { ScheduleStatusEnum } from './enums.js';
import { WRITE_ACCESS_ERRORS } from './errors.js';
import { Task } from './task.js';

const CancelScheduleSuccess = builder.objectRef<Cancelled>('CancelScheduleSuccess').implement({
  description: 'The schedule was cancelled; one unit of quota was consumed.',
  fields: (t) => ({
    scheduleId: t.exposeID('scheduleId', { description: 'Id of the cancelled schedule (the task id).' }),
    oldStatus: t.field({
      type: ScheduleStatusEnum,
      description: 'Status before cancelling.',
      resolve: (r) => r.oldStatus,
    }),
    newStatus: t.field({
      type: ScheduleStatusEnum,
      description: 'Status now: CANCELLED.',
      resolve: (r) => r.newStatus,
    }),
    task: t.field({
      type: Task,
      description: 'The task as it is now (updates client caches by id).',
      resolve: (r) => r.task,
    }),
  }),
});

const CancelScheduleResult = builder.errorUnion('CancelScheduleResult', {
  description: 'The cancelled schedule, or why it was not cancelled.',
  types: [CancelScheduleSuccess, NotFoundError, InvalidStatusError, ...WRITE_ACCESS_ERRORS, ValidationError],
  resolveType: () => 'CancelScheduleSuccess',
});

builder.mutationField('cancelSchedule', (t) =>
  t.field({
    type: CancelScheduleResult,
    nullable: true,
    description:
      'Cancels a schedule from ACTIVE, PAUSED, CREATE_PENDING or ERROR; from CANCELLED or NON_EXISTING it is InvalidStatus. ' +
      'Also limited per schedule id (RateLimited with scope SCHEDULE). Consumes one unit of quota.',
    args: {
      id: t.arg.id({
        required: true,
        description: `The schedule (task) id (at most ${MAX_ID_LENGTH} characters, else ValidationError).`,
      }),
    },
    resolve: (_, { id }, { session }) => cancelSchedule(session, id),
  }),
);
