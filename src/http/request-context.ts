// A request id for every HTTP request: taken from X-Request-Id (so a load
// balancer's id carries through) or generated, echoed in the response, passed
// to yoga as the request's X-Request-Id header (so GraphQL-side logs carry it),
// and logged with the request's outcome.
//
// Not AsyncLocalStorage: it turns on promise hooks for every promise, which
// cost a quarter of the hot read's throughput in the benchmark.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The connector door's path carries its API key (`/schedule/:apiKey/…`): never log it. */
const KEY_IN_PATH = /^\/schedule\/[^/]*/;

/** A request's path for the log: no query string, no key. */
export function loggablePath(url: string | undefined): string | undefined {
  const path = url?.split('?')[0];
  return path?.replace(KEY_IN_PATH, '/schedule/[key]');
}

export function withRequestContext(handler: RequestListener, logger: Logger): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
    req.headers['x-request-id'] = requestId;
    res.setHeader('x-request-id', requestId);
    if (logger.isLevelEnabled('info')) {
      const started = performance.now();
      res.on('finish', () => {
        logger.info(
          {
            requestId,
            method: req.method,
            // The path only: the query string may hold an access_key.
            path: loggablePath(req.url),
            status: res.statusCode,
            ms: Math.round((performance.now() - started) * 10) / 10,
          },
          'request',
        );
      });
    }
    handler(req, res);
  };
}
