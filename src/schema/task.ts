import { GraphQLError } from 'graphql';
import type { Task as TaskRow } from '../db/models.js';
import { NotFoundError, ValidationError } from '../services/errors.js';
import {
  MAX_CURSOR_LENGTH,
  MAX_ID_LENGTH,
  MAX_PLANNED_AFTER_DAYS,
  MAX_PLANNED_RUNS,
  MAX_PLANNED_RUNS_PER_EVENT,
  MAX_PLANNED_RUNS_PER_REQUEST,
} from '../services/input-limits.js';
import { describeSchedule } from '../services/schedule/describe.js';
import { getTask } from '../services/tasks/get.js';
import { listTasks, MAX_PAGE_SIZE, type TaskPage } from '../services/tasks/list.js';
import { plannedRuns } from '../services/tasks/planned-runs.js';
import { isEnabled } from '../services/tasks/status.js';
import { builder } from './builder.js';
import { connectionOf } from './connection.js';
import { FrequencyEnum, ScheduleStatusEnum, TaskApiEnum } from './enums.js';
import { ACCESS_ERRORS } from './errors.js';
import { PlannedRun } from './planned-run.js';
import { DateTime } from './scalars.js';

export const Task = builder.objectRef<TaskRow>('Task').implement({
  description: 'A scheduled task ("schedule" and "task" are the same record).',
  fields: (t) => ({
    id: t.exposeID('id', {
      description: `Opaque id of at most ${MAX_ID_LENGTH} characters, e.g. \`5650820808835072\` or \`gsvyz98boa\`.`,
    }),
    name: t.exposeString('name', { description: '1 to 255 characters.' }),
    api: t.field({ type: TaskApiEnum, description: 'The API each run calls.', resolve: (task) => task.api }),
    query: t.exposeString('query', {
      description: 'Querystring passed to the API on each run; never holds an access key.',
    }),
    frequency: t.field({ type: FrequencyEnum, description: 'How often it runs.', resolve: (task) => task.frequency }),
    crontab: t.exposeString('crontab', { description: 'Five-field Unix crontab it runs on.' }),
    description: t.string({
      description: 'The crontab in words, e.g. "At 09:34, on day 28 of the month" (times in `timezone`).',
      resolve: (task) => describeSchedule(task.crontab),
    }),
    timezone: t.exposeString('timezone', { description: 'IANA time zone the crontab is read in.' }),
    enabled: t.boolean({
      description: 'Whether it runs: true exactly when status is ACTIVE.',
      resolve: isEnabled,
    }),
    version: t.exposeInt('version', {
      description:
        '1 when created, +1 on every change of its definition or status (status changes included, and turning ERROR ' +
        'after failed runs). Runs themselves do not change it (runs, lastRunAt, inProgress, nextRunAt move on ' +
        'without it), so a task that runs every minute never makes updateTask conflict. Pass it to updateTask as expectedVersion.',
    }),
    status: t.field({
      type: ScheduleStatusEnum,
      description: 'Schedule lifecycle status.',
      resolve: (task) => task.status,
    }),
    inProgress: t.exposeBoolean('inProgress', {
      description:
        'A run is executing now (lastRun is RUNNING); the task cannot be deleted meanwhile, and a planned time that ' +
        'comes is skipped (OVERLAP).',
    }),
    createdAt: t.expose('createdAt', { type: DateTime, description: 'When it was created.' }),
    lastRunAt: t.expose('lastRunAt', {
      type: DateTime,
      nullable: true,
      description:
        'When its last run started (lastRun.startedAt), if it ever ran. An imported task keeps the last run of the ' +
        'system it came from until it runs here (lastRun is null meanwhile).',
    }),
    runs: t.exposeInt('runs', {
      description:
        'How many runs it has started (SCHEDULE and MANUAL; SKIPPED times not counted), pruned ones included.',
    }),
    consecutiveFailures: t.exposeInt('failureStreak', {
      description:
        'FAILED or TIMED_OUT runs since the last SUCCEEDED one or status change; at RUN_FAILURES_TO_ERROR (5 by ' +
        'default) an ACTIVE task becomes ERROR until resumeSchedule.',
    }),
    nextRunAt: t.expose('nextRunAt', {
      type: DateTime,
      nullable: true,
      description:
        'Its next planned run (= nextRuns(count: 1)[0].at); null unless ACTIVE. Stored: planned when the task is created, ' +
        'resumed or given a new crontab or time zone, never on a read. A time in the past is a run that has come due.',
    }),
    nextRuns: t.field({
      type: [PlannedRun],
      description:
        `Its next planned runs, daylight-saving changes applied (see PlannedRun.shifted); [] unless ACTIVE. ` +
        `At most ${MAX_PLANNED_RUNS_PER_REQUEST} runs per request over all nextRuns fields ` +
        `(${MAX_PLANNED_RUNS_PER_EVENT} per event in a subscription).`,
      args: {
        count: t.arg.int({
          required: false,
          defaultValue: 5,
          description: `How many, 1 to ${MAX_PLANNED_RUNS}.`,
        }),
        after: t.arg({
          type: DateTime,
          required: false,
          description: `Runs strictly after this instant (within ${MAX_PLANNED_AFTER_DAYS} days of now); by default from nextRunAt (included).`,
        }),
      },
      resolve: (task, { count, after }, { session }) => {
        try {
          return plannedRuns(task, count ?? 5, after, session.deps.clock.now());
        } catch (e) {
          // Not a union field: a bad argument is a request error, like a bad variable.
          if (e instanceof ValidationError) {
            throw new GraphQLError(e.message, { extensions: { code: 'BAD_USER_INPUT', field: e.field } });
          }
          throw e;
        }
      },
    }),
  }),
});

const TaskConnection = builder.connectionObject(
  {
    type: Task,
    name: 'TaskConnection',
    description: "A page of the caller's tasks, newest first.",
    fields: (t) => ({
      totalCount: t.int({
        description: 'Tasks matching the filter, on all pages (costs one more query; ask only when shown).',
        resolve: (connection) => (connection as unknown as { page: TaskPage }).page.totalCount(),
      }),
    }),
  },
  { name: 'TaskEdge', description: 'A task and its cursor.' },
);

const TaskFilter = builder.inputType('TaskFilter', {
  description: 'Narrows `tasks`; all given conditions must hold.',
  fields: (t) => ({
    status: t.field({ type: ScheduleStatusEnum, required: false, description: 'Only tasks with this status.' }),
    api: t.field({ type: TaskApiEnum, required: false, description: 'Only tasks calling this API.' }),
    enabled: t.boolean({ required: false, description: 'Only ACTIVE tasks (true) or all others (false).' }),
  }),
});

const TaskResult = builder.errorUnion('TaskResult', {
  description: 'A task, or why it cannot be read.',
  types: [Task, ...ACCESS_ERRORS, NotFoundError, ValidationError],
  resolveType: () => 'Task',
});

const TasksResult = builder.errorUnion('TasksResult', {
  description: 'A page of tasks, or why they cannot be listed.',
  types: [TaskConnection, ...ACCESS_ERRORS, ValidationError],
  resolveType: () => 'TaskConnection',
});

builder.queryFields((t) => ({
  task: t.field({
    type: TaskResult,
    nullable: true,
    description: "One of the caller's tasks by id. Lookups in one request are batched into one query.",
    args: {
      id: t.arg.id({
        required: true,
        description: `The task id (at most ${MAX_ID_LENGTH} characters, else ValidationError).`,
      }),
    },
    resolve: (_, { id }, { session }) => getTask(session, id),
  }),
  tasks: t.field({
    type: TasksResult,
    nullable: true,
    description: "The caller's tasks, newest first, as a Relay connection.",
    args: {
      first: t.arg.int({ required: false, description: `Page size, 0 to ${MAX_PAGE_SIZE} (default 20).` }),
      after: t.arg.string({
        required: false,
        description: `Return tasks after this cursor (\`pageInfo.endCursor\`; at most ${MAX_CURSOR_LENGTH} characters).`,
      }),
      filter: t.arg({ type: TaskFilter, required: false, description: 'Conditions on the tasks returned.' }),
    },
    resolve: async (_, args, { session }) => {
      const page = await listTasks(session, args);
      return { ...connectionOf(page.tasks, page), page };
    },
  }),
}));
