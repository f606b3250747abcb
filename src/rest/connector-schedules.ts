// The payment connector's schedule cancel (seed 002): the key in the path,
// `success` in the body, and a schedule that cannot be cancelled is a 200
// with errorCode 7070. Its limits (60 per account, 10 per schedule id) are
// the service layer's, shared with GraphQL's cancelSchedule.
import type { ScheduleStatus } from '../db/models.js';
import { MASKED_MESSAGE } from '../http/error-log.js';
import { InvalidStatusError, NotFoundError, type PaymentRequiredError } from '../services/errors.js';
import { cancelSchedule } from '../services/tasks/cancel.js';
import { RestInputError, readJsonObject } from './body.js';
import { type Door, json, retryAfter, statusOf } from './door.js';

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
const ERROR_CODES: Record<number, { errorCode: number; errorMessage: string }> = {
  400: { errorCode: 1000, errorMessage: 'Invalid request' },
  401: { errorCode: 1001, errorMessage: 'Invalid API key' },
  402: { errorCode: 1002, errorMessage: 'Payment required' },
  405: { errorCode: 1000, errorMessage: 'Method not allowed' },
  413: { errorCode: 1000, errorMessage: 'Request body too large' },
  423: { errorCode: 1003, errorMessage: 'Quota exceeded' },
  429: { errorCode: 1009, errorMessage: 'Too many requests' },
  500: { errorCode: 9000, errorMessage: MASKED_MESSAGE },
};

export const connectorSchedules: Door = {
  name: 'connector-schedules',
  routes: [
    {
      method: 'POST',
      path: '/schedule/:apiKey/:scheduleId/cancel',
      async handle(call) {
        const { apiKey, scheduleId } = call.params as { apiKey: string; scheduleId: string };
        if (apiKey.length > MAX_CONNECTOR_KEY_LENGTH) {
          throw new RestInputError(400, `apiKey must be at most ${MAX_CONNECTOR_KEY_LENGTH} characters.`);
        }
        if (scheduleId.length > MAX_SCHEDULE_ID_LENGTH) {
          throw new RestInputError(400, `scheduleId must be at most ${MAX_SCHEDULE_ID_LENGTH} characters.`);
        }
        await readJsonObject(call.request);
        const session = call.session(apiKey);
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
    const { errorCode, errorMessage } = ERROR_CODES[status] ?? ERROR_CODES[500]!;
    // 429 is exactly the document's body; the others say what exactly in `details`.
    const details =
      failure === null || status === 429
        ? undefined
        : 'code' in failure && failure.code === 'PAYMENT_REQUIRED'
          ? (failure as PaymentRequiredError).reason
          : failure.message;
    return json(status, { success: false, errorCode, errorMessage, details }, retryAfter(status, retryAfterSeconds));
  },
};
