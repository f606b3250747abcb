import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';

/**
 * GET /ready: 200 when `ready()` says so, 503 otherwise or when it throws.
 * (yoga's useReadinessCheck also matches a URLPattern on every other request,
 * which showed in the hot read's profile; an exact path compare does not.)
 */
export function useReadiness(ready: () => Promise<boolean>, logger: Logger, path = '/ready'): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== path) return;
      return ready().then(
        (ok) => endResponse(new fetchAPI.Response(null, { status: ok ? 200 : 503 })),
        (err: unknown) => {
          logger.warn({ err }, 'not ready');
          endResponse(new fetchAPI.Response(null, { status: 503 }));
        },
      );
    },
  };
}
