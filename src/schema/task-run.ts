// Runs: the TaskRun type and a task's runHistory and lastRun.

import { GraphQLError } from 'graphql';
import type { TaskRun as TaskRunRow } from '../db/models.js';
import { ValidationError } from '../services/errors.js';
import { MAX_CURSOR_LENGTH, MAX_RUN_HISTORY_PER_EVENT, MAX_RUN_HISTORY_PER_REQUEST } from '../services/input-limits.js';
import { lastRun, MAX_RUNS_PAGE, runHistory } from '../services/runs/history.js';
import { builder } from './builder.js';
import { connectionOf } from './connection.js';
import { RunOutcomeEnum, RunTriggerEnum, SkipReasonEnum } from './enums.js';
import { DateTime } from './scalars.js';
import { Task } from './task.js';

export const TaskRun = builder.objectRef<TaskRunRow>('TaskRun').implement({
  description:
    'One run of a task: a planned time or a runTask call, the executor calls made for it (all with the same ' +
    'X-Run-Id) and how it ended.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The run id; the executor receives it as X-Run-Id on every attempt.' }),
    taskId: t.exposeID('taskId', { description: 'The task it ran.' }),
    trigger: t.field({ type: RunTriggerEnum, description: 'What started it.', resolve: (r) => r.trigger }),
    scheduledFor: t.expose('scheduledFor', {
      type: DateTime,
      description: 'The planned time it is for (SCHEDULE), or when runTask was called (MANUAL).',
    }),
    startedAt: t.expose('startedAt', {
      type: DateTime,
      nullable: true,
      description: 'When a dispatcher claimed it; null when SKIPPED. startedAt − scheduledFor is its lateness.',
    }),
    finishedAt: t.expose('finishedAt', {
      type: DateTime,
      nullable: true,
      description: 'When it ended (for SKIPPED: when it was recorded); null while RUNNING.',
    }),
    durationMs: t.exposeInt('durationMs', {
      nullable: true,
      description:
        'Time spent in executor calls, over all attempts made by the dispatcher that ended it (when a dispatcher died ' +
        'holding it: from startedAt to its end); null while RUNNING and when SKIPPED.',
    }),
    outcome: t.field({ type: RunOutcomeEnum, description: 'How it went.', resolve: (r) => r.outcome }),
    skipReason: t.field({
      type: SkipReasonEnum,
      nullable: true,
      description: 'Why it was not run; set exactly when outcome is SKIPPED.',
      resolve: (r) => r.skipReason,
    }),
    attempts: t.exposeInt('attempts', {
      description: 'Executor calls made (retries included; 0 when SKIPPED or not yet started).',
    }),
    httpStatus: t.exposeInt('httpStatus', {
      nullable: true,
      description: "The executor's HTTP status on the last attempt; null when it never answered.",
    }),
    error: t.exposeString('error', {
      nullable: true,
      description: 'Why it failed or was skipped, in at most 200 characters (never the whole executor answer).',
    }),
  }),
});

const RunConnection = builder.connectionObject(
  { type: TaskRun, name: 'TaskRunConnection', description: "A page of a task's runs, newest first." },
  { name: 'TaskRunEdge', description: 'A run and its cursor.' },
);

const RunFilter = builder.inputType('TaskRunFilter', {
  description: 'Narrows runHistory.',
  fields: (t) => ({
    outcome: t.field({ type: RunOutcomeEnum, required: false, description: 'Only runs with this outcome.' }),
  }),
});

builder.objectFields(Task, (t) => ({
  runHistory: t.field({
    type: RunConnection,
    description:
      `Its runs, newest scheduled time first (SKIPPED ones included), kept for RUN_RETENTION_DAYS (30 by default). ` +
      'Costs one query per task: ask for it on one task, not on a long list. At most ' +
      `${MAX_RUN_HISTORY_PER_REQUEST} runs per request over all runHistory fields (first times the tasks asked for); ` +
      `${MAX_RUN_HISTORY_PER_EVENT} per event in a subscription.`,
    args: {
      first: t.arg.int({ required: false, description: `Page size, 0 to ${MAX_RUNS_PAGE} (default 20).` }),
      after: t.arg.string({
        required: false,
        description: `Runs after this cursor (\`pageInfo.endCursor\`; at most ${MAX_CURSOR_LENGTH} characters).`,
      }),
      filter: t.arg({ type: RunFilter, required: false, description: 'Conditions on the runs returned.' }),
    },
    resolve: async (task, args, { session }) => {
      try {
        const page = await runHistory(session, task, args);
        return connectionOf(page.runs, page);
      } catch (e) {
        // Not a union field: a bad argument is a request error, like a bad variable.
        if (e instanceof ValidationError) {
          throw new GraphQLError(e.message, { extensions: { code: 'BAD_USER_INPUT', field: e.field } });
        }
        throw e;
      }
    },
  }),
  lastRun: t.field({
    type: TaskRun,
    nullable: true,
    description:
      'The run it started most recently (its startedAt is lastRunAt); null if it never ran. Kept past retention. ' +
      'Batched: a page of tasks costs one query.',
    resolve: (task, _, { session }) => lastRun(session, task),
  }),
}));
