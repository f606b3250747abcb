import { ConflictError, InvalidStatusError, NotFoundError, ValidationError } from '../services/errors.js';
import {
  MAX_CRONTAB_LENGTH,
  MAX_ID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_QUERY_LENGTH,
  MAX_TIMEZONE_LENGTH,
} from '../services/input-limits.js';
import { type UpdateTaskResult, updateTask } from '../services/tasks/update.js';
import { builder } from './builder.js';
import { FrequencyEnum, TaskApiEnum } from './enums.js';
import { ErrorInterface, WRITE_ACCESS_ERRORS } from './errors.js';
import { Task } from './task.js';

const UpdateTaskInput = builder.inputType('UpdateTaskInput', {
  description:
    'The fields to change; an omitted (or null) field keeps its value. Validated as in CreateTaskInput, on the task as it will be.',
  fields: (t) => ({
    name: t.string({ required: false, description: `1 to ${MAX_NAME_LENGTH} characters (trimmed).` }),
    api: t.field({ type: TaskApiEnum, required: false, description: 'The API each run calls.' }),
    query: t.string({
      required: false,
      description: `Querystring for the API; at most ${MAX_QUERY_LENGTH} characters. Must not contain \`access_key\`.`,
    }),
    frequency: t.field({
      type: FrequencyEnum,
      required: false,
      description:
        "How often it runs. Without a crontab, the current crontab stays if it has the new frequency's shape, else the frequency's default is taken.",
    }),
    crontab: t.string({
      required: false,
      description: `Five-field Unix crontab, at most ${MAX_CRONTAB_LENGTH} characters, in the (new or current) frequency's shape (see Frequency). An empty string takes a preset's default.`,
    }),
    timezone: t.string({ required: false, description: `IANA time zone, at most ${MAX_TIMEZONE_LENGTH} characters.` }),
  }),
});

const UpdateTaskSuccess = builder.objectRef<UpdateTaskResult>('UpdateTaskSuccess').implement({
  description:
    'The task has the given values. When something changed, its version went up by one and one unit of quota was consumed.',
  fields: (t) => ({
    task: t.field({ type: Task, description: 'The task as it is now.', resolve: (r) => r.task }),
    changed: t.exposeBoolean('changed', {
      description: 'false when every given field already had its value: nothing was written or consumed.',
    }),
  }),
});

// Only updateTask answers Conflict; it carries a Task, so it lives beside it.
builder.objectType(ConflictError, {
  name: 'Conflict',
  description:
    "updateTask was given an expectedVersion that is not the task's version: it changed since it was read; nothing was changed (code CONFLICT). Read the task again, then retry.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    currentVersion: t.exposeInt('currentVersion', { description: "The task's version now." }),
    expectedVersion: t.exposeInt('expectedVersion', { description: 'The version the request expected.' }),
    task: t.field({
      type: Task,
      description: 'The task as it is now, so a client cache and an edit form catch up without another read.',
      resolve: (e) => e.task,
    }),
  }),
});

const UpdateTaskResultUnion = builder.errorUnion('UpdateTaskResult', {
  description: 'The updated task, or why it was not updated.',
  types: [UpdateTaskSuccess, NotFoundError, ConflictError, InvalidStatusError, ...WRITE_ACCESS_ERRORS, ValidationError],
  resolveType: () => 'UpdateTaskSuccess',
});

builder.mutationField('updateTask', (t) =>
  t.field({
    type: UpdateTaskResultUnion,
    nullable: true,
    description:
      'Changes some fields of a task. A changed crontab or time zone of an ACTIVE task plans its next run from now. ' +
      'CANCELLED and NON_EXISTING tasks cannot change (InvalidStatus). With expectedVersion, the update happens only ' +
      'if the task is still at that version (else Conflict), so two editors never overwrite each other. Consumes one unit of quota when something changes.',
    args: {
      id: t.arg.id({
        required: true,
        description: `The task id (at most ${MAX_ID_LENGTH} characters, else ValidationError).`,
      }),
      input: t.arg({ type: UpdateTaskInput, required: true, description: 'The fields to change.' }),
      expectedVersion: t.arg.int({
        required: false,
        description: "The task's version as the client last read it; omit to update whatever the version.",
      }),
    },
    resolve: (_, { id, input, expectedVersion }, { session }) => updateTask(session, id, input, expectedVersion),
  }),
);
