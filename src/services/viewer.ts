import type { Account, Billing, Plan } from '../db/models.js';
import { accountRateRule, admit, VIEWER } from './access.js';
import { type QuotaState, quotaOf } from './quota.js';
import type { Session } from './session.js';

export interface RateLimitView {
  limit: number;
  remaining: number;
  windowSeconds: number;
  /** When every operation counted now has left the window (null: none counted). */
  resetAt: Date | null;
  /** When the next operation will be admitted: now unless remaining is 0. */
  nextAdmissionAt: Date;
}

export interface Viewer {
  id: string;
  name: string;
  plan: Plan;
  billing: Billing;
  quota: QuotaState;
  rateLimit: RateLimitView;
}

/** The caller's account with its quota and rate-limit state, this call included. */
export async function viewer(session: Session): Promise<Viewer> {
  const account: Account = await admit(session, VIEWER);
  const { clock, rateLimiter, limits } = session.deps;
  const now = clock.now();
  const state = await rateLimiter.state(accountRateRule(account.id, limits), now);
  const remaining = Math.max(0, limits.accountMax - state.used);
  return {
    id: account.id,
    name: account.name,
    plan: account.plan,
    billing: account.billing,
    quota: quotaOf(account, now),
    rateLimit: {
      limit: limits.accountMax,
      remaining,
      windowSeconds: limits.windowSeconds,
      resetAt: state.resetAt === null ? null : new Date(state.resetAt),
      nextAdmissionAt: new Date(remaining > 0 || state.nextExpiryAt === null ? now : state.nextExpiryAt),
    },
  };
}
