// The REST doors on the yoga app: existing clients of the four public REST
// APIs this product speaks for call these paths unchanged but for the base
// URL and the key. One plugin routes them before yoga looks at the request;
// every other path (above all /graphql) passes through after one string test.
import type { Plugin } from 'graphql-yoga';
import type { SessionsByRequest } from '../context.js';
import type { Logger } from '../logger.js';
import { AppError } from '../services/errors.js';
import { type Deps, Session } from '../services/session.js';
import { RestInputError } from './body.js';
import { connectorSchedules } from './connector-schedules.js';
import type { Door, Failure, RestCall, Route } from './door.js';
import { imageTasks } from './image-tasks.js';
import { screenshotTasks } from './screenshot-tasks.js';
import { workspaceBatchDelete } from './workspace-batch-delete.js';

export const DOORS: readonly Door[] = [screenshotTasks, connectorSchedules, workspaceBatchDelete, imageTasks];

interface CompiledRoute {
  door: Door;
  route: Route;
  segments: string[];
}

const ROUTES: CompiledRoute[] = DOORS.flatMap((door) =>
  door.routes.map((route) => ({ door, route, segments: route.path.split('/').slice(1) })),
);
/**
 * Each door's first path segment (its namespace): anything else is not looked
 * at further, and an unknown path under one gets that door's 404, not an empty one.
 */
const NAMESPACES = new Map<string, Door>();
for (const r of ROUTES) if (!NAMESPACES.has(r.segments[0]!)) NAMESPACES.set(r.segments[0]!, r.door);

interface Match {
  door: Door;
  /** The route for the request's method, or null: the path exists with other methods. */
  route: Route | null;
  allowed: string[];
  raw: Record<string, string>;
}

function match(method: string, pathname: string): Match | null {
  const parts = pathname.split('/').slice(1);
  if (!NAMESPACES.has(parts[0]!)) return null;
  let found: Match | null = null;
  for (const r of ROUTES) {
    if (r.segments.length !== parts.length) continue;
    const raw: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const want = r.segments[i]!;
      if (want.startsWith(':')) {
        ok = parts[i] !== '';
        raw[want.slice(1)] = parts[i]!;
      } else ok = want === parts[i];
    }
    if (!ok) continue;
    found ??= { door: r.door, route: null, allowed: [], raw };
    found.allowed.push(r.route.method);
    // HEAD is served wherever GET is.
    if (r.route.method === 'GET') found.allowed.push('HEAD');
    if (r.route.method === method || (method === 'HEAD' && r.route.method === 'GET')) {
      found.route ??= r.route;
      found.raw = raw;
    }
  }
  return found;
}

function decodeParams(raw: Record<string, string>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      throw new RestInputError(400, `The path parameter ${name} is not valid percent-encoding.`);
    }
  }
  return params;
}

export function useRestDoors(deps: Deps, logger: Logger, sessions: SessionsByRequest): Plugin {
  return {
    onRequest({ request, url, endResponse }) {
      const pathname = url.pathname;
      if (pathname === '/graphql') return;
      const found = match(request.method, pathname);
      if (!found) {
        const door = NAMESPACES.get(pathname.split('/', 2)[1]!);
        if (!door) return;
        const failure = new RestInputError(404, 'No such endpoint.');
        endResponse(door.failure(failure, { request, retryAfterSeconds: 0 }));
        return;
      }
      let session: Session | undefined;
      const call: RestCall = {
        request,
        url,
        params: {},
        session(key) {
          session ??= new Session(deps, key);
          sessions.set(request, session);
          return session;
        },
      };
      const fail = (failure: Failure) => {
        const retry = session?.rateLimit.retryAfterSeconds ?? 0;
        return found.door.failure(failure, { request, retryAfterSeconds: retry });
      };
      const answer = async (): Promise<Response> => {
        if (!found.route) {
          const res = fail(new RestInputError(405, `This path takes ${found.allowed.join(', ')}.`));
          res.headers.set('allow', found.allowed.join(', '));
          return res;
        }
        call.params = decodeParams(found.raw);
        return found.route.handle(call);
      };
      return answer()
        .catch((err: unknown) => {
          const requestId = request.headers.get('x-request-id') ?? undefined;
          if (err instanceof AppError || err instanceof RestInputError) {
            // A client mistake or an expected refusal: quiet.
            logger.info(
              { requestId, door: found.door.name, code: 'code' in err ? err.code : err.status },
              'rest request refused',
            );
            return fail(err);
          }
          logger.error({ err, requestId, door: found.door.name }, 'unexpected error');
          return fail(null);
        })
        .then((response) => endResponse(response));
    },
  };
}
