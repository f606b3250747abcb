import type { Account, Billing, Plan } from '../db/models.js';
import { admit, currentRateLimit, type RateLimitView, rateLimitView, VIEWER } from './access.js';
import { type QuotaState, quotaOf } from './quota.js';
import type { Session } from './session.js';

export type { RateLimitView };

export interface Viewer {
  id: string;
  name: string;
  plan: Plan;
  billing: Billing;
  quota: QuotaState;
  rateLimit: RateLimitView;
}

/** The caller's account with its quota and rate-limit state; reading it is never counted. */
export async function viewer(session: Session): Promise<Viewer> {
  const account: Account = await admit(session, VIEWER);
  const rateLimit = rateLimitView(await currentRateLimit(session, account.id), session.deps.limits);
  return {
    id: account.id,
    name: account.name,
    plan: account.plan,
    billing: account.billing,
    quota: quotaOf(account, session.deps.clock.now()),
    rateLimit,
  };
}
