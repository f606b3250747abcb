import type { ScheduleStatus } from '../../db/models.js';
import { InvalidStatusError } from '../errors.js';
import { quote } from '../quote.js';

/** The schedule statuses cancelSchedule accepts; CANCELLED and NON_EXISTING are final. */
export const CANCELLABLE: readonly ScheduleStatus[] = ['ACTIVE', 'PAUSED', 'CREATE_PENDING', 'ERROR'];

export function taskInProgress(id: string, status: ScheduleStatus): InvalidStatusError {
  return new InvalidStatusError(
    id,
    status,
    true,
    `Task ${quote(id)} is running now and cannot be deleted; retry when the run ends.`,
  );
}

export function notCancellable(id: string, status: ScheduleStatus, inProgress: boolean): InvalidStatusError {
  return new InvalidStatusError(
    id,
    status,
    inProgress,
    `Schedule ${quote(id)} is ${status}; only ${CANCELLABLE.join(', ')} schedules can be cancelled.`,
  );
}
