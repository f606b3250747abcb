// The account's rate limit on every response to an authenticated request, in
// the IETF httpapi draft's headers (seconds), plus Retry-After when one of the
// request's operations was refused — so any client, not only one that reads
// `RateLimited` members, can pace itself.
import type { Plugin } from 'graphql-yoga';
import type { SessionsByRequest } from '../context.js';
import { currentRateLimit } from '../services/access.js';
import type { Session } from '../services/session.js';

/** Headers a browser may read (CORS exposes them). */
export const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy'];

async function headersOf(session: Session): Promise<[string, string][]> {
  const now = session.deps.clock.now();
  // The state this request's operations saw; a request that counted none
  // (viewer alone, introspection) asks the limiter without counting.
  let view = session.rateLimit.view;
  if (!view) {
    let accountId: string;
    try {
      accountId = (await session.caller()).account.id;
    } catch {
      return []; // not authenticated: no account to describe
    }
    view = await currentRateLimit(session, accountId);
  }
  const headers: [string, string][] = [
    ['RateLimit-Limit', String(view.limit)],
    ['RateLimit-Remaining', String(view.remaining)],
    // When `remaining` next goes up: the oldest counted operation leaves the window.
    ['RateLimit-Reset', String(Math.max(0, Math.ceil(((view.nextExpiryAt?.getTime() ?? now) - now) / 1000)))],
    ['RateLimit-Policy', `${view.limit};w=${view.windowSeconds}`],
  ];
  if (session.rateLimit.retryAfterSeconds > 0) {
    headers.push(['Retry-After', String(session.rateLimit.retryAfterSeconds)]);
  }
  return headers;
}

export function useRateLimitHeaders(sessions: SessionsByRequest): Plugin {
  return {
    onResponse({ request, response }) {
      const session = sessions.get(request);
      if (!session?.hasKey) return;
      return headersOf(session).then(
        (headers) => {
          for (const [name, value] of headers) response.headers.set(name, value);
        },
        () => {}, // the limiter is down: the answer itself already says so
      );
    },
  };
}
