// The rows a run leaves: how a started run and a skipped time are recorded.
import type { SkipReason, Task, TaskRun } from '../../db/models.js';
import { newId } from '../ids.js';

type Trigger = TaskRun['trigger'];

const SKIP_MESSAGES: Record<Exclude<SkipReason, 'MISSED'>, string> = {
  OVERLAP: 'The previous run was still in progress at this time.',
  PAYMENT_REQUIRED: 'Not run: the account has an unpaid invoice.',
  PLAN_UPGRADE_REQUIRED: 'Not run: scheduled tasks need the SCALE plan.',
  QUOTA_EXCEEDED: "Not run: the account's quota was used up.",
};

/** A new RUNNING run: `attempts` 1 when this instance calls the executor now, 0 when queued for any dispatcher. */
export function startedRun(
  task: Pick<Task, 'id' | 'accountId' | 'api' | 'query'>,
  trigger: Trigger,
  scheduledFor: Date,
  at: Date,
  lease: Date,
  attempts: 0 | 1,
  id = newId(),
): TaskRun {
  return {
    id,
    taskId: task.id,
    accountId: task.accountId,
    trigger,
    api: task.api,
    query: task.query,
    scheduledFor,
    startedAt: at,
    finishedAt: null,
    durationMs: null,
    outcome: 'RUNNING',
    skipReason: null,
    attempts,
    httpStatus: null,
    error: null,
    leaseUntil: lease,
  };
}

/** A scheduled time that was not run, and why. */
export function skippedRun(
  task: Pick<Task, 'id' | 'accountId' | 'api' | 'query'>,
  scheduledFor: Date,
  reason: SkipReason,
  at: Date,
  message = reason === 'MISSED' ? '' : SKIP_MESSAGES[reason],
): TaskRun {
  return {
    id: newId(),
    taskId: task.id,
    accountId: task.accountId,
    trigger: 'SCHEDULE',
    api: task.api,
    query: task.query,
    scheduledFor,
    startedAt: null,
    finishedAt: at,
    durationMs: null,
    outcome: 'SKIPPED',
    skipReason: reason,
    attempts: 0,
    httpStatus: null,
    error: message,
    leaseUntil: null,
  };
}
