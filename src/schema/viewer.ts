import { UnauthorizedError } from '../services/errors.js';
import type { QuotaState } from '../services/quota.js';
import type { RateLimitView, Viewer } from '../services/viewer.js';
import { viewer } from '../services/viewer.js';
import { builder } from './builder.js';
import { BillingEnum, PlanEnum } from './enums.js';
import { DateTime } from './scalars.js';

const Quota = builder.objectRef<QuotaState>('Quota').implement({
  description: 'Units of change the account may make per period. Reads never consume quota.',
  fields: (t) => ({
    limit: t.exposeInt('limit', { description: 'Units per period.' }),
    used: t.exposeInt('used', { description: 'Units used in the current period.' }),
    remaining: t.exposeInt('remaining', { description: 'Units left in the current period.' }),
    resetAt: t.expose('resetAt', {
      type: DateTime,
      nullable: true,
      description: 'When the period ends and `used` returns to 0; null if never.',
    }),
  }),
});

const RateLimitStatus = builder.objectRef<RateLimitView>('RateLimitStatus').implement({
  description: "The account's rolling-window rate limit, counting this request's earlier operations.",
  fields: (t) => ({
    limit: t.exposeInt('limit', { description: 'Operations allowed in any window.' }),
    remaining: t.exposeInt('remaining', { description: 'Operations that would be admitted now.' }),
    windowSeconds: t.exposeInt('windowSeconds', { description: 'Length of the rolling window.' }),
    resetAt: t.expose('resetAt', {
      type: DateTime,
      nullable: true,
      description: 'When every operation counted now has left the window (remaining = limit); null if none counted.',
    }),
    nextAdmissionAt: t.expose('nextAdmissionAt', {
      type: DateTime,
      description: 'When the next operation will be admitted: now, unless remaining is 0.',
    }),
  }),
});

const Account = builder.objectRef<Viewer>('Account').implement({
  description: 'The account the API key belongs to.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Account id.' }),
    name: t.exposeString('name', { description: 'Account name.' }),
    plan: t.field({ type: PlanEnum, description: 'Subscription plan.', resolve: (a) => a.plan }),
    billing: t.field({ type: BillingEnum, description: 'Billing standing.', resolve: (a) => a.billing }),
    quota: t.field({ type: Quota, description: 'Quota of the current period.', resolve: (a) => a.quota }),
    rateLimit: t.field({ type: RateLimitStatus, description: 'Rate-limit state.', resolve: (a) => a.rateLimit }),
  }),
});

const ViewerResult = builder.errorUnion('ViewerResult', {
  description: "The caller's account, or why it cannot be read. Works on every plan and billing state.",
  types: [Account, UnauthorizedError],
  resolveType: () => 'Account',
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerResult,
    nullable: true,
    description:
      'The account of the calling API key, with its plan, billing, quota and rate-limit state. ' +
      'Never counted against the rate limit, so it answers while the account is limited.',
    resolve: (_, __, { session }) => viewer(session),
  }),
);
