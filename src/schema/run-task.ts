import { InvalidStatusError, NotFoundError, SchedulerDisabledError, ValidationError } from '../services/errors.js';
import { MAX_ID_LENGTH } from '../services/input-limits.js';
import { type RunStarted, runTask } from '../services/runs/run-now.js';
import { builder } from './builder.js';
import { WRITE_ACCESS_ERRORS } from './errors.js';
import { Task } from './task.js';
import { TaskRun } from './task-run.js';

const RunTaskSuccess = builder.objectRef<RunStarted>('RunTaskSuccess').implement({
  description: 'A MANUAL run started (outcome RUNNING); one unit of quota was consumed. Follow it on task.lastRun.',
  fields: (t) => ({
    run: t.field({ type: TaskRun, description: 'The run, as it started.', resolve: (r) => r.run }),
    task: t.field({
      type: Task,
      description: 'The task as it is now (inProgress; updates client caches by id).',
      resolve: (r) => r.task,
    }),
  }),
});

const RunTaskResult = builder.errorUnion('RunTaskResult', {
  description: 'The started run, or why none started.',
  types: [
    RunTaskSuccess,
    NotFoundError,
    InvalidStatusError,
    SchedulerDisabledError,
    ...WRITE_ACCESS_ERRORS,
    ValidationError,
  ],
  resolveType: () => 'RunTaskSuccess',
});

builder.mutationField('runTask', (t) =>
  t.field({
    type: RunTaskResult,
    nullable: true,
    description:
      'Runs a task now, by the same path as a scheduled run (executor call, retries, history). Allowed from ACTIVE, ' +
      'PAUSED and ERROR, when no run is in progress (else InvalidStatus); does not move nextRunAt. ' +
      'Consumes one unit of quota.',
    args: {
      id: t.arg.id({
        required: true,
        description: `The task id (at most ${MAX_ID_LENGTH} characters, else ValidationError).`,
      }),
    },
    resolve: (_, { id }, { session }) => runTask(session, id),
  }),
);
