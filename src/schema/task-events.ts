// Subscription.taskEvents: a thin mapping onto services/events/subscribe.ts.
// Not an errorUnion: its subscribe wrapper is an async generator, whose
// return() waits for the next event, so a client that leaves would hold its
// stream (and its place under the per-account cap) until then.
import { wrapOrThrow } from '@pothos/plugin-errors';
import {
  AppError,
  type ErrorCode,
  PaymentRequiredError,
  RateLimitedError,
  UnauthorizedError,
  ValidationError,
} from '../services/errors.js';
import { ENDING_ERRORS, MAX_SUBSCRIBED_IDS, subscribeTaskEvents } from '../services/events/subscribe.js';
import { TASK_CHANGES, type TaskChange, type TaskEvent } from '../services/events/task-events.js';
import { builder } from './builder.js';
import { TaskDeleted } from './delete-tasks.js';
import { Task } from './task.js';
import { TaskRun } from './task-run.js';

type Event<K extends TaskEvent['kind']> = Extract<TaskEvent, { kind: K }>;

builder.subscriptionType({
  description:
    'Live events, over GraphQL over SSE (POST or GET /graphql with `Accept: text/event-stream`, key in the `X-Access-Key` header) ' +
    'or GraphQL over WebSocket (graphql-ws on /graphql, key in `connectionParams: { "X-Access-Key": key }`). ' +
    'Subscribing is checked like a read and counts one operation of the rate limit; events count nothing.',
});

const changeDescriptions: Record<TaskChange, string> = {
  CREATED: 'createTask created it.',
  UPDATED: 'updateTask changed its fields.',
  PAUSED: 'pauseSchedule paused it.',
  RESUMED: 'resumeSchedule made it ACTIVE again.',
  CANCELLED: 'cancelSchedule cancelled it.',
  ERRORED: 'Its runs failed RUN_FAILURES_TO_ERROR times in a row: it is ERROR and runs no more until resumed.',
};

export const TaskChangeEnum = builder.enumType('TaskChange', {
  description: 'What changed a task.',
  values: Object.fromEntries(TASK_CHANGES.map((c) => [c, { description: changeDescriptions[c] }])) as Record<
    TaskChange,
    { description: string }
  >,
});

const TaskChanged = builder.objectRef<Event<'TaskChanged'>>('TaskChanged').implement({
  description: "A task's fields or status changed.",
  fields: (t) => ({
    task: t.field({ type: Task, description: 'The task as it is after the change.', resolve: (e) => e.task }),
    change: t.field({ type: TaskChangeEnum, description: 'What changed it.', resolve: (e) => e.change }),
  }),
});

const RunStarted = builder.objectRef<Event<'RunStarted'>>('RunStarted').implement({
  description: 'A run started (scheduled, or runTask): it is RUNNING and the task is in progress.',
  fields: (t) => ({
    run: t.field({ type: TaskRun, description: 'The run, RUNNING.', resolve: (e) => e.run }),
    task: t.field({
      type: Task,
      description: 'The task as it is now (in progress, next run planned).',
      resolve: (e) => e.task,
    }),
  }),
});

const RunFinished = builder.objectRef<Event<'RunFinished'>>('RunFinished').implement({
  description:
    'A run record became final: a run ended (SUCCEEDED, FAILED, TIMED_OUT), or a scheduled time was SKIPPED ' +
    '(skipReason says why; such a run never started).',
  fields: (t) => ({
    run: t.field({ type: TaskRun, description: 'The run with its outcome.', resolve: (e) => e.run }),
    task: t.field({ type: Task, description: 'The task as it is now.', resolve: (e) => e.task }),
  }),
});

/** The errors a subscription can end with, by code (resolveType). */
const ERROR_TYPES: Partial<Record<ErrorCode, string>> = {
  UNAUTHORIZED: 'Unauthorized',
  PAYMENT_REQUIRED: 'PaymentRequired',
  RATE_LIMITED: 'RateLimited',
  VALIDATION: 'ValidationError',
};

const TaskEventUnion = builder.unionType('TaskEvent', {
  description:
    'An event about one of your tasks, or the error that refused or ended the subscription (the stream ends after it).',
  types: [
    TaskChanged,
    TaskDeleted,
    RunStarted,
    RunFinished,
    UnauthorizedError,
    PaymentRequiredError,
    RateLimitedError,
    ValidationError,
  ],
  // Errors arrive wrapped by wrapOrThrow (see resolve), so they are not Error instances here.
  resolveType: (item) => {
    if ('kind' in item) return item.kind;
    const name = ERROR_TYPES[(item as AppError).code];
    if (!name) throw new Error(`taskEvents cannot answer ${(item as AppError).code}`);
    return name;
  },
});

builder.subscriptionField('taskEvents', (t) =>
  t.field({
    type: TaskEventUnion,
    nullable: true,
    description:
      'Events about your tasks, from when the subscription is answered: every task, or only `ids` ' +
      `(at most ${MAX_SUBSCRIBED_IDS}). Checked like a read (Unauthorized → PaymentRequired → RateLimited), then the ids ` +
      '(ValidationError); at most SUBSCRIPTIONS_PER_ACCOUNT (default 20) open at once per account on one server ' +
      '(more: RateLimited, scope ACCOUNT, windowSeconds 0). A refused subscription yields its error and ends. The key and ' +
      'plan are checked again every SUBSCRIPTION_RECHECK_SECONDS (default 30, at most 60): a revoked key (Unauthorized) ' +
      'or a lapsed plan (PaymentRequired) ends it. ' +
      'Delivery is at most once (nothing is replayed after a reconnect: refetch what you show).',
    args: {
      ids: t.arg.idList({
        required: false,
        description: `Only events of these tasks (at most ${MAX_SUBSCRIBED_IDS}); omit for every task of the account.`,
      }),
    },
    subscribe: (_, { ids }, { session, request }) => subscribeTaskEvents(session, ids, request.signal),
    resolve: (item, _, { session }) => {
      // graphql-js treats a returned Error as a thrown one: wrap it as the errors plugin does for its unions.
      if (item instanceof AppError) return wrapOrThrow(item, ENDING_ERRORS, undefined) as typeof item;
      // The stream's session lives for many events: nested fields read afresh for each.
      session.forgetReads();
      return item;
    },
  }),
);
