import type { Task as TaskRow } from '../db/models.js';
import { ValidationError } from '../services/errors.js';
import {
  MAX_CRONTAB_LENGTH,
  MAX_NAME_LENGTH,
  MAX_QUERY_LENGTH,
  MAX_TIMEZONE_LENGTH,
} from '../services/input-limits.js';
import { createTask } from '../services/tasks/create.js';
import { builder } from './builder.js';
import { FrequencyEnum, TaskApiEnum } from './enums.js';
import { WRITE_ACCESS_ERRORS } from './errors.js';
import { Task } from './task.js';

const CreateTaskInput = builder.inputType('CreateTaskInput', {
  description: 'A new scheduled task.',
  fields: (t) => ({
    name: t.string({ required: true, description: `1 to ${MAX_NAME_LENGTH} characters (trimmed).` }),
    api: t.field({ type: TaskApiEnum, required: true, description: 'The API each run calls.' }),
    query: t.string({
      required: true,
      description: `Querystring for the API, e.g. \`url=https%3A%2F%2Fexample.com\`; at most ${MAX_QUERY_LENGTH} characters. Must not contain \`access_key\`.`,
    }),
    frequency: t.field({ type: FrequencyEnum, required: true, description: 'How often it runs.' }),
    crontab: t.string({
      required: false,
      description: `Five-field Unix crontab, at most ${MAX_CRONTAB_LENGTH} characters, in the frequency's shape (see Frequency). Required for CUSTOM; omitted or empty, a preset's default.`,
    }),
    timezone: t.string({
      required: false,
      description: `IANA time zone, at most ${MAX_TIMEZONE_LENGTH} characters (default \`Etc/UTC\`).`,
    }),
    enabled: t.boolean({ required: false, description: 'Start enabled (ACTIVE, default) or disabled (PAUSED).' }),
  }),
});

const CreateTaskSuccess = builder.objectRef<{ task: TaskRow }>('CreateTaskSuccess').implement({
  description: 'The task was created; one unit of quota was consumed.',
  fields: (t) => ({
    task: t.field({ type: Task, description: 'The new task.', resolve: (r) => r.task }),
  }),
});

const CreateTaskResult = builder.errorUnion('CreateTaskResult', {
  description: 'The created task, or why it was not created.',
  types: [CreateTaskSuccess, ...WRITE_ACCESS_ERRORS, ValidationError],
  resolveType: () => 'CreateTaskSuccess',
});

builder.mutationField('createTask', (t) =>
  t.field({
    type: CreateTaskResult,
    nullable: true,
    description: 'Creates a scheduled task. Consumes one unit of quota.',
    args: { input: t.arg({ type: CreateTaskInput, required: true, description: 'The task.' }) },
    resolve: async (_, { input }, { session }) => ({ task: await createTask(session, input) }),
  }),
);
