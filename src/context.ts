// Per-request GraphQL context: a fresh Session (caller + loaders) per request,
// so nothing cached for one caller is ever seen by another.
import { apiKeyFrom } from './http/api-key.js';
import type { GraphQLContext } from './schema/builder.js';
import { type Deps, Session } from './services/session.js';

/** Each request's session, for what answers after execution (the rate-limit headers). */
export type SessionsByRequest = WeakMap<Request, Session>;

export function createContext(deps: Deps, sessions: SessionsByRequest) {
  return ({ request }: { request: Request }): GraphQLContext => {
    const session = new Session(deps, apiKeyFrom(request));
    sessions.set(request, session);
    return { session, request };
  };
}
