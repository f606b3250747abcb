// Every expected failure as a GraphQL type implementing `Error`. Only these
// classes are registered with the errors plugin; anything else thrown is
// unexpected and masked by yoga.
import {
  type AppError,
  BatchAbortedError,
  ERROR_CODES,
  type ErrorCode,
  InvalidStatusError,
  NotFoundError,
  type PAYMENT_REQUIRED_REASONS,
  PaymentRequiredError,
  QuotaExceededError,
  type RATE_LIMIT_SCOPES,
  RateLimitedError,
  SchedulerDisabledError,
  UnauthorizedError,
  ValidationError,
} from '../services/errors.js';
import { builder } from './builder.js';
import { ScheduleStatusEnum } from './enums.js';

const codeDescriptions: Record<ErrorCode, string> = {
  UNAUTHORIZED: 'The API key is missing, unknown or revoked.',
  PAYMENT_REQUIRED: 'Billing or plan does not allow the operation.',
  RATE_LIMITED: 'Too many operations in the rolling window.',
  QUOTA_EXCEEDED: "The account's quota is used up.",
  NOT_FOUND: 'No such task for this account.',
  INVALID_STATUS: "The task's status does not allow the operation.",
  VALIDATION: 'An argument is invalid.',
  BATCH_ABORTED: 'Nothing was done because an item of an atomic batch failed.',
  CONFLICT: 'The task changed since the version the client read (updateTask expectedVersion).',
  SCHEDULER_DISABLED: 'This deployment has no executor, so nothing can be run (runTask).',
};

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Stable, machine-readable code of an error. Switch on it (or on `__typename`), never on `message`.',
  values: Object.fromEntries(ERROR_CODES.map((c) => [c, { description: codeDescriptions[c] }])) as Record<
    ErrorCode,
    { description: string }
  >,
});

export const RateLimitScopeEnum = builder.enumType('RateLimitScope', {
  description: 'Which rate limit refused the operation.',
  values: {
    ACCOUNT: { description: 'The per-account limit on operations (every root field counts).' },
    SCHEDULE: {
      description:
        'The per-schedule limit on status changes (cancelSchedule, pauseSchedule, resumeSchedule) of one id.',
    },
  } satisfies Record<(typeof RATE_LIMIT_SCOPES)[number], unknown>,
});

export const PaymentRequiredReasonEnum = builder.enumType('PaymentRequiredReason', {
  description: 'Why payment is required.',
  values: {
    UNPAID_INVOICE: { description: 'The account has an unpaid invoice.' },
    PLAN_UPGRADE_REQUIRED: { description: 'Scheduled tasks need the SCALE plan.' },
  } satisfies Record<(typeof PAYMENT_REQUIRED_REASONS)[number], unknown>,
});

export const ErrorInterface = builder.interfaceRef<AppError>('Error').implement({
  description:
    'Implemented by every expected failure. Operations return errors as union members, never as top-level `errors`.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'Human-readable explanation; may change, do not parse.' }),
    code: t.field({ type: ErrorCodeEnum, description: 'Stable machine-readable code.', resolve: (e) => e.code }),
  }),
});

builder.objectType(UnauthorizedError, {
  name: 'Unauthorized',
  description: 'The API key is missing, unknown or revoked (code UNAUTHORIZED).',
  interfaces: [ErrorInterface],
});

builder.objectType(PaymentRequiredError, {
  name: 'PaymentRequired',
  description: 'Billing (checked first) or plan does not allow the operation (code PAYMENT_REQUIRED).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    reason: t.field({ type: PaymentRequiredReasonEnum, description: 'What to fix.', resolve: (e) => e.reason }),
  }),
});

builder.objectType(RateLimitedError, {
  name: 'RateLimited',
  description: 'A rolling-window rate limit refused the operation; nothing was changed (code RATE_LIMITED).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', {
      description: 'Seconds until the next operation will be admitted.',
    }),
    limit: t.exposeInt('limit', {
      description: 'Operations allowed in any window (for taskEvents: subscriptions open at once).',
    }),
    windowSeconds: t.exposeInt('windowSeconds', {
      description: 'Length of the rolling window; 0 for the cap on open subscriptions (taskEvents), which has none.',
    }),
    scope: t.field({ type: RateLimitScopeEnum, description: 'Which limit refused.', resolve: (e) => e.scope }),
  }),
});

builder.objectType(QuotaExceededError, {
  name: 'QuotaExceeded',
  description: "The account's quota cannot cover the change; nothing was changed (code QUOTA_EXCEEDED).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    limit: t.exposeInt('limit', { description: 'Units in the current period.' }),
    used: t.exposeInt('used', { description: 'Units used in the current period.' }),
    requested: t.exposeInt('requested', { description: 'Units the refused operation needed.' }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFound',
  description: "The account has no task with this id (also for another account's task) (code NOT_FOUND).",
  interfaces: [ErrorInterface],
});

builder.objectType(InvalidStatusError, {
  name: 'InvalidStatus',
  description:
    "The task's state does not allow the operation: a running task cannot be deleted; only ACTIVE pauses, only PAUSED or ERROR resumes; CANCELLED and NON_EXISTING are final (code INVALID_STATUS).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    currentStatus: t.field({
      type: ScheduleStatusEnum,
      description: 'The schedule status when the operation was refused.',
      resolve: (e) => e.currentStatus,
    }),
    inProgress: t.exposeBoolean('inProgress', { description: 'Whether a run was executing.' }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'An argument is invalid; nothing was changed (code VALIDATION).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.exposeString('field', {
      nullable: true,
      description: 'The argument or input field at fault, when one is.',
    }),
  }),
});

builder.objectType(BatchAbortedError, {
  name: 'BatchAborted',
  description:
    'In an atomic deleteTasks, this item was valid but not deleted because another item failed (code BATCH_ABORTED).',
  interfaces: [ErrorInterface],
});

builder.objectType(SchedulerDisabledError, {
  name: 'SchedulerDisabled',
  description:
    'This deployment has no executor configured (EXECUTOR_URL), so no task can be run; schedules are kept but never fire (code SCHEDULER_DISABLED).',
  interfaces: [ErrorInterface],
});

/** Errors every task operation can return, in the order they are checked. */
export const ACCESS_ERRORS = [UnauthorizedError, PaymentRequiredError, RateLimitedError] as const;
/** ... and for operations that change something. */
export const WRITE_ACCESS_ERRORS = [...ACCESS_ERRORS, QuotaExceededError] as const;
