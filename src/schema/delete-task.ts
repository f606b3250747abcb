import { InvalidStatusError, NotFoundError, ValidationError } from '../services/errors.js';
import { MAX_ID_LENGTH } from '../services/input-limits.js';
import { deleteTask } from '../services/tasks/delete.js';
import { builder } from './builder.js';
import { WRITE_ACCESS_ERRORS } from './errors.js';

const DeleteTaskSuccess = builder.objectRef<{ deletedId: string }>('DeleteTaskSuccess').implement({
  description: 'The task was deleted; one unit of quota was consumed.',
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', { description: 'Id of the deleted task; evict it from client caches.' }),
  }),
});

const DeleteTaskResult = builder.errorUnion('DeleteTaskResult', {
  description: 'The deleted id, or why nothing was deleted.',
  types: [DeleteTaskSuccess, NotFoundError, InvalidStatusError, ...WRITE_ACCESS_ERRORS, ValidationError],
  resolveType: () => 'DeleteTaskSuccess',
});

builder.mutationField('deleteTask', (t) =>
  t.field({
    type: DeleteTaskResult,
    nullable: true,
    description:
      'Deletes a task. A task whose run is in progress cannot be deleted (InvalidStatus). Consumes one unit of quota.',
    args: {
      id: t.arg.id({
        required: true,
        description: `The task id (at most ${MAX_ID_LENGTH} characters, else ValidationError).`,
      }),
    },
    resolve: (_, { id }, { session }) => deleteTask(session, id),
  }),
);
