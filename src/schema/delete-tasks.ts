import {
  BatchAbortedError,
  DeleteTasksAbortedError,
  InvalidStatusError,
  NotFoundError,
  ValidationError,
} from '../services/errors.js';
import { MAX_ID_LENGTH } from '../services/input-limits.js';
import {
  type DeleteTasksResult as Deleted,
  type DeleteOutcome,
  type TaskDeleted as Done,
  deleteTasks,
  MAX_BATCH,
} from '../services/tasks/delete-many.js';
import { builder } from './builder.js';
import { ErrorInterface, WRITE_ACCESS_ERRORS } from './errors.js';

/** A deleted task: an item of deleteTasks, and the taskEvents event. */
export const TaskDeleted = builder.objectRef<Done>('TaskDeleted').implement({
  description: 'This task was deleted (an item of deleteTasks; a taskEvents event).',
  fields: (t) => ({
    taskId: t.exposeID('taskId', { description: 'Id of the deleted task; evict it from client caches.' }),
    deletedId: t.exposeID('taskId', { description: 'Id of the deleted task (the same as taskId).' }),
  }),
});

const DeleteTaskOutcome = builder.errorUnion('DeleteTaskOutcome', {
  description: 'What happened to one id of a deleteTasks call.',
  types: [TaskDeleted, NotFoundError, InvalidStatusError, BatchAbortedError],
  resolveType: () => 'TaskDeleted',
});

const DeleteTasksItem = builder.objectRef<{ id: string; outcome: DeleteOutcome }>('DeleteTasksItem').implement({
  description: 'One distinct id of a deleteTasks call and its outcome.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The id as given.' }),
    outcome: t.field({ type: DeleteTaskOutcome, description: 'Deleted, or why not.', resolve: (item) => item.outcome }),
  }),
});

const DeleteTasksSuccess = builder.objectRef<Deleted>('DeleteTasksSuccess').implement({
  description:
    'The deletions happened: every deletable item was deleted (with atomic: true, that is every item). ' +
    'Items that could not be deleted (atomic: false only) say why. One unit of quota was consumed per task deleted.',
  fields: (t) => ({
    deletedIds: t.exposeIDList('deletedIds', { description: 'Ids deleted, in the order first given.' }),
    results: t.field({
      type: [DeleteTasksItem],
      description: 'One item per distinct id, in the order first given.',
      resolve: (r) => r.results,
    }),
  }),
});

builder.objectType(DeleteTasksAbortedError, {
  name: 'DeleteTasksAborted',
  description:
    'An atomic deleteTasks in which some item failed: nothing was deleted and no quota consumed (code BATCH_ABORTED). ' +
    'Each item says why it failed (NotFound, InvalidStatus) or that it was aborted with the rest (BatchAborted).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    results: t.field({
      type: [DeleteTasksItem],
      description: 'One item per distinct id, in the order first given.',
      resolve: (e) => e.results,
    }),
  }),
});

const DeleteTasksResult = builder.errorUnion('DeleteTasksResult', {
  description: 'The deletions, or why none happened.',
  types: [DeleteTasksSuccess, DeleteTasksAbortedError, ...WRITE_ACCESS_ERRORS, ValidationError],
  resolveType: () => 'DeleteTasksSuccess',
});

builder.mutationField('deleteTasks', (t) =>
  t.field({
    type: DeleteTasksResult,
    nullable: true,
    description:
      `Deletes up to ${MAX_BATCH} tasks in one transaction; duplicated ids are reported once. ` +
      'With atomic: true, if any item fails nothing is deleted and the answer is DeleteTasksAborted. ' +
      'Consumes one unit of quota per task deleted; ' +
      'QuotaExceeded (and nothing deleted) if the quota cannot cover them all.',
    args: {
      ids: t.arg.idList({
        required: true,
        description: `1 to ${MAX_BATCH} task ids, each at most ${MAX_ID_LENGTH} characters (else ValidationError).`,
      }),
      atomic: t.arg.boolean({ required: false, defaultValue: false, description: 'All or nothing (default false).' }),
    },
    resolve: (_, { ids, atomic }, { session }) => deleteTasks(session, ids, atomic ?? false),
  }),
);
