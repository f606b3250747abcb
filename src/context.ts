// Per-request GraphQL context: a fresh Session (caller + loaders) per request,
// so nothing cached for one caller is ever seen by another.
import { apiKeyFrom } from './http/api-key.js';
import type { GraphQLContext } from './schema/builder.js';
import { type Deps, Session } from './services/session.js';

export function createContext(deps: Deps) {
  return ({ request }: { request: Request }): GraphQLContext => ({ session: new Session(deps, apiKeyFrom(request)) });
}
