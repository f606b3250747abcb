import { BatchAbortedError, InvalidStatusError, NotFoundError, ValidationError } from '../services/errors.js';
import {
  type DeleteTasksResult as Deleted,
  type DeleteOutcome,
  type TaskDeleted as Done,
  deleteTasks,
  MAX_BATCH,
} from '../services/tasks/delete-many.js';
import { builder } from './builder.js';
import { WRITE_ACCESS_ERRORS } from './errors.js';

const TaskDeleted = builder.objectRef<Done>('TaskDeleted').implement({
  description: 'This item was deleted.',
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', { description: 'Id of the deleted task.' }),
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
  description: 'The batch ran; see each item. One unit of quota was consumed per task deleted.',
  fields: (t) => ({
    deletedIds: t.exposeIDList('deletedIds', {
      description: 'Ids actually deleted (empty if an atomic batch failed).',
    }),
    results: t.field({
      type: [DeleteTasksItem],
      description: 'One item per distinct id, in the order first given.',
      resolve: (r) => r.results,
    }),
  }),
});

const DeleteTasksResult = builder.errorUnion('DeleteTasksResult', {
  description: 'Per-item outcomes, or why the batch did not run.',
  types: [DeleteTasksSuccess, ...WRITE_ACCESS_ERRORS, ValidationError],
  resolveType: () => 'DeleteTasksSuccess',
});

builder.mutationField('deleteTasks', (t) =>
  t.field({
    type: DeleteTasksResult,
    nullable: true,
    description:
      `Deletes up to ${MAX_BATCH} tasks in one transaction; duplicated ids are reported once. ` +
      'With atomic: true, if any item fails nothing is deleted. Consumes one unit of quota per task deleted; ' +
      'QuotaExceeded (and nothing deleted) if the quota cannot cover them all.',
    args: {
      ids: t.arg.idList({ required: true, description: `1 to ${MAX_BATCH} task ids.` }),
      atomic: t.arg.boolean({ required: false, defaultValue: false, description: 'All or nothing (default false).' }),
    },
    resolve: (_, { ids, atomic }, { session }) => deleteTasks(session, ids, atomic ?? false),
  }),
);
