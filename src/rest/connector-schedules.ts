// The payment connector's schedule cancel (seed 002): the key in the path,
// `success` in the body, and a schedule that cannot be cancelled is a 200
// with errorCode 7070. Its limits (60 per account, 10 per schedule id) are
// the service layer's, shared with GraphQL's cancelSchedule.
import type { ScheduleStatus } from '../db/models.js';
import { MASKED_MESSAGE } from '../http/error-log.js';
import { InvalidStatusError, NotFoundError, PaymentRequiredError } from '../services/errors.js';
import { cancelSchedule } from '../services/tasks/cancel.js';
import { RestInputError, readJsonObject, SMALL_BODY_BYTES } from './body.js';
import { type Door, json, type RestStatus, retryAfter, statusOf } from './door.js';

/** The document's path limits. */
export const MAX_CONNECTOR_KEY_LENGTH = 50;
export const MAX_SCHEDULE_ID_LENGTH = 32;

/** The document's spelling of a status (`CREATE-PENDING`, `NON-EXISTING`). */
const spelled = (status: ScheduleStatus) => status.replace('_', '-');

const INVALID_STATUS = {
  errorMessage: 'The status of the schedule is not valid for the requested operation',
  errorCode: 7070,
};

/** errorCode per HTTP status: 1009 is the document's; the others are ours (see the README). */
const ERROR_CODES: Record<RestStatus, { errorCode: number; errorMessage: string }> = {
  400: { errorCode: 1000, errorMessage: 'Invalid request' },
  401: { errorCode: 1001, errorMessage: 'Invalid API key' },
  402: { errorCode: 1002, errorMessage: 'Payment required' },
  404: { errorCode: 1000, errorMessage: 'Not found' },
  405: { errorCode: 1000, errorMessage: 'Method not allowed' },
  413: { errorCode: 1000, errorMessage: 'Request body too large' },
  // No call of this door meets 409 (a status that cannot be cancelled is its 7070) or 503.
  409: { errorCode: 1000, errorMessage: 'Conflict' },
  423: { errorCode: 1003, errorMessage: 'Quota exceeded' },
  429: { errorCode: 1009, errorMessage: 'Too many requests' },
  500: { errorCode: 9000, errorMessage: MASKED_MESSAGE },
  503: { errorCode: 9000, errorMessage: 'Unavailable' },
};

export const connectorSchedules: Door = {
  name: 'connector-schedules',
  routes: [
    {
      method: 'POST',
      path: '/schedule/:apiKey/:scheduleId/cancel',
      async handle(call) {
        const apiKey = call.params.apiKey!;
        const scheduleId = call.params.scheduleId!;
        if (apiKey.length > MAX_CONNECTOR_KEY_LENGTH) {
          throw new RestInputError(400, `apiKey must be at most ${MAX_CONNECTOR_KEY_LENGTH} characters.`);
        }
        if (scheduleId.length > MAX_SCHEDULE_ID_LENGTH) {
          throw new RestInputError(400, `scheduleId must be at most ${MAX_SCHEDULE_ID_LENGTH} characters.`);
        }
        // The key before the body: a caller without one costs no parsing.
        const session = call.session(apiKey);
        await session.caller();
        await readJsonObject(call.request, SMALL_BODY_BYTES);
        try {
          const { oldStatus, newStatus } = await cancelSchedule(session, scheduleId);
          return json(200, { success: true, scheduleId, oldStatus: spelled(oldStatus), newStatus: spelled(newStatus) });
        } catch (e) {
          // Not an error for this API: a 200 saying what the status is. An
          // unknown id (or another account's) is NON-EXISTING, the same bytes.
          if (e instanceof NotFoundError || e instanceof InvalidStatusError) {
            const status = e instanceof NotFoundError ? 'NON-EXISTING' : spelled(e.currentStatus);
            return json(200, { success: false, scheduleId, oldStatus: status, newStatus: status, ...INVALID_STATUS });
          }
          throw e;
        }
      },
    },
  ],
  failure(failure, { retryAfterSeconds }) {
    const status = statusOf(failure);
    const { errorCode, errorMessage } = ERROR_CODES[status];
    // 429 is exactly the document's body; the others say what exactly in `details`.
    const details =
      failure === null || status === 429
        ? undefined
        : failure instanceof PaymentRequiredError
          ? failure.reason
          : failure.message;
    return json(status, { success: false, errorCode, errorMessage, details }, retryAfter(status, retryAfterSeconds));
  },
};
