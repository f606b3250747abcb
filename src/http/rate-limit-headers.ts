// The account's rate limit on every response to an authenticated request, in
// the IETF httpapi draft's headers (seconds), plus Retry-After when one of the
// request's operations was refused — so any client, not only one that reads
// `RateLimited` members, can pace itself.
import type { Plugin } from 'graphql-yoga';
import type { SessionsByRequest } from '../context.js';
import { currentRateLimit, rateLimitView } from '../services/access.js';
import type { RateLimitState } from '../services/rate-limit.js';
import type { Session } from '../services/session.js';

/** Headers a browser may read (CORS exposes them). */
export const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy'];

function setHeaders(headers: Headers, session: Session, state: RateLimitState): void {
  const view = rateLimitView(state, session.deps.limits);
  headers.set('RateLimit-Limit', String(view.limit));
  headers.set('RateLimit-Remaining', String(view.remaining));
  // When `remaining` next goes up: the oldest counted operation leaves the window.
  headers.set('RateLimit-Reset', String(view.resetSeconds));
  headers.set('RateLimit-Policy', `${view.limit};w=${view.windowSeconds}`);
  const retryAfter = session.rateLimit.retryAfterSeconds;
  if (retryAfter > 0) headers.set('Retry-After', String(retryAfter));
}

/** The state of a request that counted nothing (viewer alone, introspection): asked without counting. */
async function stateOf(session: Session): Promise<RateLimitState | null> {
  let accountId: string;
  try {
    accountId = (await session.caller()).account.id;
  } catch {
    return null; // not authenticated: no account to describe
  }
  return currentRateLimit(session, accountId);
}

export function useRateLimitHeaders(sessions: SessionsByRequest): Plugin {
  return {
    onResponse({ request, response }) {
      const session = sessions.get(request);
      if (!session?.hasKey) return;
      // Usually known from the request's own operations: no second call to the limiter.
      const known = session.rateLimit.state;
      if (known) return setHeaders(response.headers, session, known);
      return stateOf(session).then(
        (state) => {
          if (state) setHeaders(response.headers, session, state);
        },
        () => {}, // the limiter is down: the answer itself already says so
      );
    },
  };
}
