// The account's request quota: a mutation that changes something consumes
// units in the same transaction as the change, so a failed change refunds them
// by rolling back, and concurrent consumers can never overdraw.
import type { HotWrites } from '../db/client.js';
import type { Account } from '../db/models.js';
import { QuotaExceededError } from './errors.js';

export interface QuotaState {
  limit: number;
  used: number;
  remaining: number;
  /** When the current period ends and `used` starts again from 0 (null: never). */
  resetAt: Date | null;
}

/** The end of the first monthly period after `periodEnd` that contains `now`. */
export function nextPeriodEnd(periodEnd: Date, now: number): Date {
  const next = new Date(periodEnd);
  while (next.getTime() <= now) next.setUTCMonth(next.getUTCMonth() + 1);
  return next;
}

/** The quota as of `now`, from an account row (a period that ended counts as reset). */
export function quotaOf(account: Pick<Account, 'quotaLimit' | 'quotaUsed' | 'quotaResetAt'>, now: number): QuotaState {
  const ended = account.quotaResetAt !== null && account.quotaResetAt.getTime() <= now;
  const used = ended ? 0 : account.quotaUsed;
  return {
    limit: account.quotaLimit,
    used,
    remaining: Math.max(0, account.quotaLimit - used),
    resetAt: ended && account.quotaResetAt ? nextPeriodEnd(account.quotaResetAt, now) : account.quotaResetAt,
  };
}

/**
 * Consumes `units` inside the writes' transaction, or throws QuotaExceededError (the caller's
 * transaction then rolls back, consuming nothing). The increment is the first
 * write, so it also takes the account's row lock and serialises concurrent
 * consumers of one account on PostgreSQL.
 */
export async function consumeQuota(w: HotWrites, accountId: string, units: number, now: number): Promise<void> {
  if (units <= 0) return;
  const row = await w.addQuotaUsed(accountId, units);
  let usedBefore = row.quotaUsed - units;
  if (row.quotaResetAt && row.quotaResetAt.getTime() <= now) {
    // The first consumption of a new period: start its count from zero.
    usedBefore = 0;
    await w.startQuotaPeriod(accountId, units, nextPeriodEnd(row.quotaResetAt, now));
  }
  if (usedBefore + units > row.quotaLimit) throw new QuotaExceededError(row.quotaLimit, usedBefore, units);
}

/**
 * Takes the account's row lock without changing it. A transaction that must
 * read the account's tasks before deciding what to charge calls this first:
 * every task-changing transaction of an account locks the account row first,
 * so after this its reads cannot be overtaken by another request's changes.
 */
export async function lockAccount(w: HotWrites, accountId: string): Promise<void> {
  await w.addQuotaUsed(accountId, 0);
}

/**
 * Consumes `units` if the account has them left, inside the writes'
 * transaction; whether it did. For consumers that record a refusal instead of
 * failing (a due run becomes SKIPPED with QUOTA_EXCEEDED).
 */
export async function tryConsumeQuota(w: HotWrites, accountId: string, units: number, now: number): Promise<boolean> {
  try {
    await consumeQuota(w, accountId, units, now);
    return true;
  } catch (e) {
    if (!(e instanceof QuotaExceededError)) throw e;
    await w.addQuotaUsed(accountId, -units);
    return false;
  }
}
