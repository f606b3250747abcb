// The screenshot service's Task API v1 (seeds 000, 001): list, read and delete
// scheduled tasks, with the document's JSON and its table of error codes.
import type { Task } from '../db/models.js';
import { apiKeyFrom } from '../http/api-key.js';
import { MASKED_MESSAGE } from '../http/error-log.js';
import { PaymentRequiredError, ValidationError } from '../services/errors.js';
import { deleteTask } from '../services/tasks/delete.js';
import { getTask } from '../services/tasks/get.js';
import { listTasks, MAX_LIST_SIZE } from '../services/tasks/list.js';
import { isEnabled } from '../services/tasks/status.js';
import { RestInputError, readJsonObject, SMALL_BODY_BYTES } from './body.js';
import { type Door, json, type RestCall, type RestStatus, retryAfter, statusOf } from './door.js';

/** The document's table: type and details per code, plus the codes it does not list (marked). */
const CODES: Record<RestStatus, { type: string; details: string }> = {
  400: { type: 'Bad Request', details: 'The request was rejected due to a missing or invalid parameter.' },
  401: { type: 'Unauthorized', details: 'The request was rejected due to an invalid access key.' },
  402: { type: 'Payment Required', details: 'Access denied due to an unpaid invoice.' },
  404: { type: 'Not Found', details: 'The requested resource was not found.' },
  // Not in the table: the method is not one the path takes.
  405: { type: 'Method Not Allowed', details: 'The path does not accept this method.' },
  // Not in the table: "a task in progress cannot be deleted".
  409: { type: 'Conflict', details: 'The task is running now and cannot be deleted; retry when the run ends.' },
  // Not in the table.
  413: { type: 'Payload Too Large', details: 'The request body is too large.' },
  423: { type: 'Locked', details: 'The request was denied due to insufficient quota.' },
  429: { type: 'Too Many Requests', details: 'The rate limit has been exceeded (too many requests per minute).' },
  500: { type: 'Internal server error', details: 'The request failed due to an internal server error.' },
  // Not in the table; no call of this door meets it today.
  503: { type: 'Service Unavailable', details: 'The service cannot do this now.' },
};
const PLAN_DETAILS = 'Scheduled Tasks are available only on the Scale plan.';

/** An id that is a JSON-safe integer is a number in the document's JSON ("0123" would lose its zero). */
const INTEGER_ID = /^(0|[1-9]\d{0,15})$/;

function idOf(id: string): number | string {
  if (!INTEGER_ID.test(id)) return id;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : id;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** A task as document 001 shows it. */
export function taskJson(task: Task) {
  return {
    id: idOf(task.id),
    name: task.name,
    api: task.api.toLowerCase(),
    query: task.query,
    frequency: task.frequency.toLowerCase(),
    crontab: task.crontab,
    timezone: task.timezone,
    enabled: isEnabled(task),
    created: seconds(task.createdAt),
    last_run: task.lastRunAt ? seconds(task.lastRunAt) : null,
    runs: task.runs,
  };
}

/** The key from the header, Authorization, the query, or (a DELETE's) JSON body. */
async function keyOf(call: RestCall): Promise<string | undefined> {
  const key = apiKeyFrom(call.request);
  if (key !== undefined || call.request.method === 'GET' || !call.request.body) return key;
  const body = await readJsonObject(call.request, SMALL_BODY_BYTES);
  const given = body.access_key;
  if (given === undefined) return undefined;
  if (typeof given !== 'string') throw new RestInputError(400, 'access_key must be a string.');
  return given.trim() || undefined;
}

/** `limit` as a number for the service to check (NaN unless digits): the page-size rule is listTasks'. */
function limitOf(url: URL): number {
  const given = url.searchParams.get('limit');
  if (given === null) return MAX_LIST_SIZE;
  return /^\d{1,7}$/.test(given) ? Number(given) : Number.NaN;
}

export const screenshotTasks: Door = {
  name: 'screenshot-tasks-v1',
  routes: [
    {
      method: 'GET',
      path: '/v1/tasks',
      async handle(call) {
        const limit = limitOf(call.url);
        const after = call.url.searchParams.get('after');
        const session = call.session(await keyOf(call));
        const page = await listTasks(session, { first: limit, after }, MAX_LIST_SIZE);
        const headers: Record<string, string> = {};
        const last = page.tasks.at(-1);
        if (page.hasNextPage && last) {
          // Relative, so it stays right behind a proxy that mounts the API under a path.
          const next = `tasks?limit=${limit}&after=${encodeURIComponent(page.cursorOf(last))}`;
          headers.link = `<${next}>; rel="next"`;
        }
        return json(200, page.tasks.map(taskJson), headers);
      },
    },
    {
      method: 'GET',
      path: '/v1/tasks/:id',
      async handle(call) {
        const task = await getTask(call.session(await keyOf(call)), call.params.id!);
        return json(200, taskJson(task));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/tasks/:id',
      async handle(call) {
        await deleteTask(call.session(await keyOf(call)), call.params.id!);
        return new Response(null, { status: 204 });
      },
    },
  ],
  failure(failure, { retryAfterSeconds }) {
    const code = statusOf(failure);
    const { type, details } = CODES[code];
    const planRefused = failure instanceof PaymentRequiredError && failure.reason === 'PLAN_UPGRADE_REQUIRED';
    // The service names the page size `first`; this API calls it `limit`.
    const message =
      failure instanceof ValidationError && failure.field === 'first'
        ? `limit must be an integer from 0 to ${MAX_LIST_SIZE}.`
        : failure
          ? failure.message
          : MASKED_MESSAGE;
    return json(
      code,
      { code, type, details: planRefused ? PLAN_DETAILS : details, message },
      retryAfter(code, retryAfterSeconds),
    );
  },
};
