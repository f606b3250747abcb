// The checks every operation passes, in one place and one order:
// Unauthorized → PaymentRequired (billing, then plan) → RateLimited →
// QuotaExceeded → the operation's own errors. A failed check changes nothing.
import type { Limits } from '../config.js';
import type { Account } from '../db/models.js';
import { PaymentRequiredError, type PaymentRequiredReason, QuotaExceededError, RateLimitedError } from './errors.js';
import { quotaOf } from './quota.js';
import type { RateLimitRule, RateLimitState } from './rate-limit.js';
import type { Session } from './session.js';

export interface AccessRule {
  /** Scheduled tasks need a paid-up SCALE account. */
  requiresScalePlan: boolean;
  /** Counts against the account's rate limit (every operation but `viewer`). */
  rateLimited: boolean;
  /** The operation may change something, so it needs quota left. */
  consumesQuota: boolean;
  /** cancel, pause and resume: also count against this schedule's own limit. */
  scheduleId?: string;
}

/** Reading tasks: rate limited, never consumes quota. */
export const READ: AccessRule = { requiresScalePlan: true, rateLimited: true, consumesQuota: false };
/** Changing tasks. */
export const WRITE: AccessRule = { requiresScalePlan: true, rateLimited: true, consumesQuota: true };
/**
 * The caller's own account: readable whatever the plan or billing, and not
 * counted against the rate limit (like GitHub's rate-limit endpoint), so a
 * client can always show its plan, quota and when it may go on.
 */
export const VIEWER: AccessRule = { requiresScalePlan: false, rateLimited: false, consumesQuota: false };
/**
 * Computing on client input that changes nothing (schedulePreview): any plan,
 * like the viewer, but counted against the rate limit because each call costs
 * the server work the client chooses.
 */
export const COMPUTE: AccessRule = { requiresScalePlan: false, rateLimited: true, consumesQuota: false };

/** The account's rate limit as clients see it (the viewer's rateLimit, the RateLimit-* headers). */
export interface RateLimitView {
  limit: number;
  remaining: number;
  windowSeconds: number;
  /** When every operation counted now has left the window (null: none counted). */
  resetAt: Date | null;
  /** When the next operation will be admitted: now unless remaining is 0. */
  nextAdmissionAt: Date;
  /** Seconds until `remaining` next goes up (the oldest counted operation leaves the window); 0 if none counted. */
  resetSeconds: number;
}

/** The account's limit as clients see it, from the limiter's state (times on the limiter's clock). */
export function rateLimitView(state: RateLimitState, limits: Limits): RateLimitView {
  const remaining = Math.max(0, limits.accountMax - state.used);
  return {
    limit: limits.accountMax,
    remaining,
    windowSeconds: limits.windowSeconds,
    resetAt: state.resetAt === null ? null : new Date(state.resetAt),
    nextAdmissionAt: new Date(remaining > 0 || state.nextExpiryAt === null ? state.at : state.nextExpiryAt),
    resetSeconds: state.nextExpiryAt === null ? 0 : Math.max(0, Math.ceil((state.nextExpiryAt - state.at) / 1000)),
  };
}

/** The account's rate-limit state now, without counting anything. */
export async function currentRateLimit(session: Session, accountId: string): Promise<RateLimitState> {
  const { clock, rateLimiter, limits } = session.deps;
  const state = await rateLimiter.state(accountRateRule(accountId, limits), clock.now());
  session.noteRateLimit(state);
  return state;
}

export function accountRateRule(accountId: string, limits: Limits): RateLimitRule {
  // {…}: a Redis Cluster hash tag, so an account's keys share a slot and one
  // script can update the account and schedule keys together.
  return {
    key: `acct:{${accountId}}`,
    limit: limits.accountMax,
    windowMs: limits.windowSeconds * 1000,
    scope: 'ACCOUNT',
  };
}

function scheduleRateRule(accountId: string, scheduleId: string, limits: Limits): RateLimitRule {
  // Keyed by account too, so nobody can exhaust another account's schedule.
  return {
    key: `sched:{${accountId}}:${scheduleId}`,
    limit: limits.scheduleMax,
    windowMs: limits.windowSeconds * 1000,
    scope: 'SCHEDULE',
  };
}

/**
 * Why the account may not use scheduled tasks now (billing first, then plan),
 * or null. The API's operations and the dispatcher's runs both ask this.
 */
export function planRefusal(account: Pick<Account, 'plan' | 'billing'>): PaymentRequiredReason | null {
  if (account.billing === 'UNPAID') return 'UNPAID_INVOICE';
  if (account.plan !== 'SCALE') return 'PLAN_UPGRADE_REQUIRED';
  return null;
}

/**
 * For what stays open (a subscription): authenticates the caller again and
 * checks billing and plan, counting nothing. Throws what `admit` would.
 */
export async function recheckAccess(session: Session, rule: AccessRule): Promise<Account> {
  const { account } = await session.reauthenticate();
  if (rule.requiresScalePlan) {
    const refused = planRefusal(account);
    if (refused) throw new PaymentRequiredError(refused);
  }
  return account;
}

/** Runs the checks for one operation (one root field); returns the caller's account. */
export async function admit(session: Session, rule: AccessRule): Promise<Account> {
  const { account } = await session.caller();
  if (rule.requiresScalePlan) {
    const refused = planRefusal(account);
    if (refused) throw new PaymentRequiredError(refused);
  }
  const { clock, rateLimiter, limits } = session.deps;
  const now = clock.now();
  if (rule.rateLimited) {
    const rules = [accountRateRule(account.id, limits)];
    if (rule.scheduleId !== undefined) rules.push(scheduleRateRule(account.id, rule.scheduleId, limits));
    const admission = await rateLimiter.consume(rules, now);
    if (!admission.admitted) {
      const { scope, limit, windowMs } = admission.rule;
      const retryAfterSeconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
      session.noteRetryAfter(retryAfterSeconds);
      // Refused by the account's own limit: its state is known without asking again.
      if (scope === 'ACCOUNT') {
        const nextExpiryAt = now + admission.retryAfterMs;
        session.noteRateLimit({ used: limit, nextExpiryAt, resetAt: nextExpiryAt + windowMs, at: now });
      }
      throw new RateLimitedError(scope, limit, limits.windowSeconds, retryAfterSeconds);
    }
    session.noteRateLimit(admission.state);
  }
  if (rule.consumesQuota) {
    // A fast refusal from the request's snapshot; the transaction that
    // consumes is the authority (see consumeQuota).
    const quota = quotaOf(account, now);
    if (quota.remaining <= 0) throw new QuotaExceededError(quota.limit, quota.used);
  }
  return account;
}
