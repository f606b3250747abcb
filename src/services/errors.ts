// Expected failures of the service layer. Each is a typed value a door (GraphQL,
// the admin CLI) can present; anything that is not an AppError is unexpected
// and must be masked by the door.
import type { ScheduleStatus, Task } from '../db/models.js';
import { quote } from './quote.js';

export const ERROR_CODES = [
  'UNAUTHORIZED',
  'PAYMENT_REQUIRED',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'NOT_FOUND',
  'INVALID_STATUS',
  'VALIDATION',
  'BATCH_ABORTED',
  'CONFLICT',
  'SCHEDULER_DISABLED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const RATE_LIMIT_SCOPES = ['ACCOUNT', 'SCHEDULE'] as const;
export type RateLimitScope = (typeof RATE_LIMIT_SCOPES)[number];

export const PAYMENT_REQUIRED_REASONS = ['UNPAID_INVOICE', 'PLAN_UPGRADE_REQUIRED'] as const;
export type PaymentRequiredReason = (typeof PAYMENT_REQUIRED_REASONS)[number];

export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string) {
    // No stack: an expected failure is an answer, not a bug, and the errors
    // plugin reads `.stack` of every one it returns; formatting a captured
    // stack (source-mapped under tsx) was ~5% of a failing mutation's CPU.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

export class UnauthorizedError extends AppError {
  readonly code = 'UNAUTHORIZED';
  constructor(message = 'A valid API key is required (X-Access-Key header, Authorization: Bearer, or access_key).') {
    super(message);
  }
}

export class PaymentRequiredError extends AppError {
  readonly code = 'PAYMENT_REQUIRED';
  constructor(readonly reason: PaymentRequiredReason) {
    super(
      reason === 'UNPAID_INVOICE'
        ? 'The account has an unpaid invoice; pay it to continue.'
        : 'Scheduled tasks require the SCALE plan; upgrade to continue.',
    );
  }
}

export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
  constructor(
    readonly scope: RateLimitScope,
    readonly limit: number,
    readonly windowSeconds: number,
    readonly retryAfterSeconds: number,
    message?: string,
  ) {
    super(
      message ??
        `Rate limit of ${limit} ${scope === 'ACCOUNT' ? 'operations per account' : 'status changes per schedule'} ` +
          `per ${windowSeconds}s exceeded; retry in ${retryAfterSeconds}s.`,
    );
  }
}

export class QuotaExceededError extends AppError {
  readonly code = 'QUOTA_EXCEEDED';
  constructor(
    readonly limit: number,
    readonly used: number,
    readonly requested = 1,
  ) {
    super(
      requested > limit - used && requested > 1
        ? `Quota exceeded: ${requested} units requested, ${Math.max(0, limit - used)} of ${limit} left.`
        : `Quota exceeded: ${used} of ${limit} units used.`,
    );
  }
}

export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  constructor(readonly id: string) {
    // The same message whether the task never existed or belongs to another
    // account: the answer must not reveal other accounts' ids.
    super(`Task ${quote(id)} was not found.`);
  }
}

export class InvalidStatusError extends AppError {
  readonly code = 'INVALID_STATUS';
  constructor(
    readonly id: string,
    readonly currentStatus: ScheduleStatus,
    readonly inProgress: boolean,
    message: string,
  ) {
    super(message);
  }
}

export class ValidationError extends AppError {
  readonly code = 'VALIDATION';
  constructor(
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** updateTask's expectedVersion is not the task's version: someone changed it since it was read. */
export class ConflictError extends AppError {
  readonly code = 'CONFLICT';
  readonly currentVersion: number;
  constructor(
    /** The task as it is now. */
    readonly task: Task,
    readonly expectedVersion: number,
  ) {
    super(
      `Task ${quote(task.id)} is at version ${task.version}, not ${expectedVersion}: it changed since you read it. ` +
        'Review its current values and retry with its current version.',
    );
    this.currentVersion = task.version;
  }
}

/** runTask on a deployment that has no executor (EXECUTOR_URL unset): nothing can run. */
export class SchedulerDisabledError extends AppError {
  readonly code = 'SCHEDULER_DISABLED';
  constructor() {
    super('This deployment runs no tasks (no executor is configured); runTask is unavailable.');
  }
}

/** A batch item that was valid but not deleted because the atomic batch failed. */
export class BatchAbortedError extends AppError {
  readonly code = 'BATCH_ABORTED';
  constructor(readonly id: string) {
    super(`Task ${quote(id)} was not deleted: another item failed and the batch was atomic.`);
  }
}

/**
 * An atomic deleteTasks in which some item failed: nothing was deleted. Each
 * item says why (NotFound, InvalidStatus) or that it was aborted with the rest.
 */
export class DeleteTasksAbortedError extends AppError {
  readonly code = 'BATCH_ABORTED';
  constructor(
    readonly results: readonly { id: string; outcome: NotFoundError | InvalidStatusError | BatchAbortedError }[],
  ) {
    const failed = results.filter((r) => !(r.outcome instanceof BatchAbortedError)).length;
    super(
      `Nothing was deleted: ${failed} of ${results.length} ${results.length === 1 ? 'item' : 'items'} failed and the batch was atomic.`,
    );
  }
}
