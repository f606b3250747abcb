// CORS: which browser pages may call this API. API keys travel in headers
// (X-Access-Key, Authorization), never in cookies, so no origin is ever
// allowed credentials: a page can only act with a key its own code holds.
import type { CORSOptions, Plugin } from 'graphql-yoga';
import { RATE_LIMIT_HEADERS } from './rate-limit-headers.js';

/** `'*'`: any origin; otherwise the exact origins (scheme://host[:port]) allowed. */
export type CorsOrigins = '*' | readonly string[];

// Request headers are not listed: a preflight gets back the ones it asks for
// (tracing, Apollo's client headers…), which is safe without credentials.
const SHARED = {
  credentials: false,
  // DELETE: the screenshot Task API's `DELETE /v1/tasks/:id`.
  methods: ['GET', 'POST', 'DELETE'],
  exposedHeaders: [...RATE_LIMIT_HEADERS, 'Retry-After', 'X-Request-Id'],
  maxAge: 600,
} satisfies CORSOptions;

/**
 * With a list of origins the answer depends on the request's Origin: say so,
 * so no shared cache hands one origin's answer to another. (yoga's CORS adds
 * `Vary: Origin` only when it echoes one of several origins.)
 */
export function useVaryOrigin(origins: CorsOrigins): Plugin {
  if (origins === '*') return {};
  return {
    onResponse({ response }) {
      const vary = response.headers.get('vary');
      if (!vary?.split(',').some((v) => v.trim().toLowerCase() === 'origin')) response.headers.append('Vary', 'Origin');
    },
  };
}

/**
 * yoga's CORS option for a policy. An origin outside the list gets no CORS
 * headers at all (not `Access-Control-Allow-Origin: null`, which sandboxed
 * pages, whose origin is "null", would match).
 */
export function corsFor(origins: CorsOrigins): (request: Request) => CORSOptions {
  if (origins === '*') {
    const any: CORSOptions = { ...SHARED, origin: '*' };
    return () => any;
  }
  const allowed = new Set(origins);
  return (request) => {
    const origin = request.headers.get('origin');
    return origin !== null && allowed.has(origin) ? { ...SHARED, origin: [origin] } : false;
  };
}
