// The cloud workspace's batch delete of scheduled tasks (seed 003): all or
// nothing, 200 with no body, or 400 naming each task that failed and why.
// `project_id` selects nothing: the key (X-Auth-Token) is the account.

import { apiKeyFrom } from '../http/api-key.js';
import { MASKED_MESSAGE } from '../http/error-log.js';
import { DeleteTasksAbortedError, PaymentRequiredError, ValidationError } from '../services/errors.js';
import { checkPrintable, MAX_ID_LENGTH } from '../services/input-limits.js';
import { quote } from '../services/quote.js';
import { deleteTasks } from '../services/tasks/delete-many.js';
import { RestInputError, readBody } from './body.js';
import { type Door, json, type RestStatus, retryAfter, statusOf } from './door.js';

/**
 * Error codes in the document's style. WKS.0001 is the Workspace API's own
 * ("The request message input by the interface is empty."), APIGW.0301 and
 * APIGW.0308 its gateway's; the others are ours, numbered by HTTP status.
 */
const CODES: Record<RestStatus, { error_code: string; error_msg: string }> = {
  400: { error_code: 'WKS.0002', error_msg: 'Invalid request parameter.' },
  401: { error_code: 'APIGW.0301', error_msg: 'Incorrect IAM authentication information.' },
  402: { error_code: 'WKS.0402', error_msg: 'Payment required.' },
  // The gateway's own code for a path it does not serve.
  404: { error_code: 'APIGW.0101', error_msg: 'The API does not exist or has not been published in the environment.' },
  405: { error_code: 'WKS.0405', error_msg: 'Method not allowed.' },
  // No call of this door meets 409 (a running task is named in its WKS.0400) or 503.
  409: { error_code: 'WKS.0409', error_msg: 'Conflict.' },
  413: { error_code: 'WKS.0413', error_msg: 'Request body too large.' },
  423: { error_code: 'WKS.0423', error_msg: 'Insufficient quota.' },
  429: { error_code: 'APIGW.0308', error_msg: 'The throttling threshold has been reached.' },
  500: { error_code: 'WKS.0500', error_msg: MASKED_MESSAGE },
  503: { error_code: 'WKS.0503', error_msg: 'Service unavailable.' },
};
const EMPTY = { error_code: 'WKS.0001', error_msg: 'The request message input by the interface is empty.' };
const NOT_DELETED = 'WKS.0400';
const TASK_NOT_FOUND = { error_code: 'WKS.0404', error_msg: 'The scheduled task does not exist.' };
const TASK_RUNNING = { error_code: 'WKS.0409', error_msg: 'The scheduled task is running and cannot be deleted.' };

/** The body's `task_ids`, checked for shape; ids themselves are the service's to check. */
function taskIdsOf(text: string): string[] {
  if (text.trim() === '') throw new RestInputError(400, EMPTY.error_msg, 'EMPTY');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RestInputError(400, 'The request body is not valid JSON.');
  }
  const ids = (body as { task_ids?: unknown } | null)?.task_ids;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || ids === undefined) {
    throw new RestInputError(400, 'The request body must be a JSON object with task_ids.');
  }
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
    throw new RestInputError(400, 'task_ids must be an array of strings.');
  }
  return ids as string[];
}

/** How many failed ids error_detail names in words (failed_tasks lists them all). */
const DETAILED = 20;

/** The failures in words: ids quoted as every message quotes client input (a short, escaped prefix). */
function detailOf(failed: readonly { task_id: string; error_code: string; error_msg: string }[]): string {
  const named = failed.slice(0, DETAILED).map((f) => `${quote(f.task_id)}: ${f.error_code} ${f.error_msg}`);
  if (failed.length > DETAILED) named.push(`and ${failed.length - DETAILED} more (see failed_tasks)`);
  return named.join('; ');
}

export const workspaceBatchDelete: Door = {
  name: 'workspace-batch-delete',
  routes: [
    {
      method: 'POST',
      path: '/v2/:project_id/scheduled-tasks/batch-delete',
      async handle(call) {
        const project = call.params.project_id!;
        if (project.length > MAX_ID_LENGTH) {
          throw new RestInputError(400, `project_id must be at most ${MAX_ID_LENGTH} characters.`);
        }
        checkPrintable('project_id', project);
        const key = call.request.headers.get('x-auth-token')?.trim() || apiKeyFrom(call.request);
        // The key before the body: a caller without one costs no parsing.
        const session = call.session(key);
        await session.caller();
        const ids = taskIdsOf(new TextDecoder().decode(await readBody(call.request)));
        try {
          await deleteTasks(session, ids, true);
        } catch (e) {
          if (!(e instanceof DeleteTasksAbortedError)) throw e;
          const failed = e.results.flatMap(({ id, outcome }) =>
            outcome.code === 'BATCH_ABORTED'
              ? []
              : [{ task_id: id, ...(outcome.code === 'NOT_FOUND' ? TASK_NOT_FOUND : TASK_RUNNING) }],
          );
          return json(400, {
            error_code: NOT_DELETED,
            error_msg: `Nothing was deleted: ${failed.length} of ${e.results.length} tasks could not be deleted.`,
            error_detail: detailOf(failed),
            failed_tasks: failed,
          });
        }
        return new Response(null, { status: 200 });
      },
    },
  ],
  failure(failure, { retryAfterSeconds }) {
    const status = statusOf(failure);
    const empty = failure instanceof RestInputError && failure.reason === 'EMPTY';
    const { error_code, error_msg } = empty ? EMPTY : CODES[status];
    const error_detail =
      failure === null
        ? ''
        : failure instanceof PaymentRequiredError
          ? failure.reason
          : status === 401
            ? 'Send a valid API key in the X-Auth-Token header.'
            : // The service names its argument `ids`; this API calls it task_ids.
              failure instanceof ValidationError && failure.field === 'ids'
              ? failure.message.replace(/\bids\b/g, 'task_ids')
              : failure.message;
    return json(status, { error_code, error_msg, error_detail }, retryAfter(status, retryAfterSeconds));
  },
};
