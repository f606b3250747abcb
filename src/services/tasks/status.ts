// The schedule lifecycle: which status each status change starts from and
// where it leads. The one place these rules live (GraphQL, the REST doors and
// the admin CLI all come through the services that read them).
import type { ScheduleStatus } from '../../db/models.js';
import { InvalidStatusError } from '../errors.js';
import { quote } from '../quote.js';

export type StatusChange = 'cancel' | 'pause' | 'resume';

export const TRANSITIONS: Record<StatusChange, { from: readonly ScheduleStatus[]; to: ScheduleStatus }> = {
  cancel: { from: ['ACTIVE', 'PAUSED', 'CREATE_PENDING', 'ERROR'], to: 'CANCELLED' },
  pause: { from: ['ACTIVE'], to: 'PAUSED' },
  resume: { from: ['PAUSED', 'ERROR'], to: 'ACTIVE' },
};

/** Statuses runTask may start a run from (a CREATE_PENDING schedule does not exist yet). */
export const RUNNABLE: readonly ScheduleStatus[] = ['ACTIVE', 'PAUSED', 'ERROR'];

/** Whether a task runs: its API's `enabled` (GraphQL and the screenshot Task API both say it). */
export function isEnabled(task: { status: ScheduleStatus }): boolean {
  return task.status === 'ACTIVE';
}

/** Statuses nothing leaves: such a task can only be read or deleted. */
export const FINAL: readonly ScheduleStatus[] = ['CANCELLED', 'NON_EXISTING'];

const VERB: Record<StatusChange, string> = { cancel: 'cancelled', pause: 'paused', resume: 'resumed' };

export function taskInProgress(id: string, status: ScheduleStatus): InvalidStatusError {
  return new InvalidStatusError(
    id,
    status,
    true,
    `Task ${quote(id)} is running now and cannot be deleted; retry when the run ends.`,
  );
}

export function notAllowed(
  change: StatusChange,
  id: string,
  status: ScheduleStatus,
  inProgress: boolean,
): InvalidStatusError {
  return new InvalidStatusError(
    id,
    status,
    inProgress,
    `Schedule ${quote(id)} is ${status}; only ${TRANSITIONS[change].from.join(', ')} schedules can be ${VERB[change]}.`,
  );
}

export function finalStatus(id: string, status: ScheduleStatus, inProgress: boolean): InvalidStatusError {
  return new InvalidStatusError(
    id,
    status,
    inProgress,
    `Task ${quote(id)} is ${status}, which is final: it can be read or deleted, not changed.`,
  );
}

export function notRunnable(id: string, status: ScheduleStatus, inProgress: boolean): InvalidStatusError {
  return new InvalidStatusError(
    id,
    status,
    inProgress,
    inProgress
      ? `Task ${quote(id)} is running now; start another run when this one ends.`
      : `Task ${quote(id)} is ${status}; only ${RUNNABLE.join(', ')} tasks can be run.`,
  );
}
