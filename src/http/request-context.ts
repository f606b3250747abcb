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

/** A segment that names the connector door (however a client spelt it): the next one is its key. */
const SCHEDULE = /^schedule(;.*)?$/i;
/** This API's keys, wherever they are. */
const KEY_SHAPED = /tsk_[A-Za-z0-9_-]{8,}/;

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * A request's path for the log: the path as routing sees it (the URL
 * parser's: backslashes are slashes, dot-segments resolved), no query string,
 * and no key — neither the connector's `/schedule/:apiKey/…` nor anything
 * shaped like a key. A log must never hold a key.
 */
export function loggablePath(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  let path: string;
  try {
    path = new URL(`http://x${url.startsWith('/') ? '' : '/'}${url}`).pathname;
  } catch {
    return '[unparseable]';
  }
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    if (KEY_SHAPED.test(decoded(segments[i]!))) segments[i] = '[key]';
    else if (i > 0 && SCHEDULE.test(decoded(segments[i - 1]!))) segments[i] = '[key]';
  }
  return segments.join('/');
}

/** A Host header that is a host name or address and a port: nothing else may reach the URL yoga builds from it. */
const HOST = /^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/**
 * Why the request line or Host header cannot be served, or null. The Fetch
 * adapter builds its URL as `http://<Host><request-target>`: a Host such as
 * `h/v1` moved the routed path, and an absolute-form target or a bad Host
 * threw inside the adapter (a 500 with a stack). An absolute-form target
 * (`GET http://host/path`, which HTTP/1.1 servers must accept) is rewritten
 * to its origin form, its authority replacing Host, as RFC 9112 says.
 */
export function badRequestLine(req: IncomingMessage): string | null {
  const target = req.url ?? '';
  if (!target.startsWith('/')) {
    if (!/^https?:\/\//i.test(target)) return 'Unsupported request target.';
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return 'Malformed request target.';
    }
    req.url = `${url.pathname}${url.search}`;
    req.headers.host = url.host;
  }
  const host = req.headers.host;
  if (host === undefined) return null;
  const m = HOST.exec(host);
  if (!m || (m[1] !== undefined && Number(m[1]) > 65535)) return 'Malformed Host header.';
  return null;
}

export function withRequestContext(handler: RequestListener, logger: Logger): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
    req.headers['x-request-id'] = requestId;
    res.setHeader('x-request-id', requestId);
    const bad = badRequestLine(req);
    if (bad) {
      // Before anything reads the request: answered here, and the connection closed.
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
      res.end(JSON.stringify({ errors: [{ message: bad }] }));
      logger.info({ requestId, method: req.method, status: 400, reason: bad }, 'request refused');
      return;
    }
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
