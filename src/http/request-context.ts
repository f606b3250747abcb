// A request id for every HTTP request: taken from X-Request-Id (so a load
// balancer's id carries through) or generated, echoed in the response, and
// attached to every log line written while the request runs.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';

export const requestContext = new AsyncLocalStorage<{ requestId: string }>();

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function withRequestContext(handler: RequestListener, logger: Logger): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    const started = performance.now();
    res.on('finish', () => {
      logger.info(
        {
          requestId,
          method: req.method,
          // The path only: the query string may hold an access_key.
          path: req.url?.split('?')[0],
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 10) / 10,
        },
        'request',
      );
    });
    requestContext.run({ requestId }, () => handler(req, res));
  };
}
