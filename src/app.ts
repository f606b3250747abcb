// The yoga application: schema, per-request context, masking and limits. It
// does not listen; server.ts does, and tests call `app.fetch` directly.
import { createYoga, maskError } from 'graphql-yoga';
import { createContext } from './context.js';
import { useBodyLimit } from './http/body-limit.js';
import { useErrorLog } from './http/error-log.js';
import { EXAMPLE_QUERY } from './http/example-query.js';
import { renderGraphiQL, useGraphiQLAssets } from './http/graphiql.js';
import { useJit } from './http/jit.js';
import { MAX_BODY_BYTES, useQueryLimits } from './http/limits.js';
import { useReadiness } from './http/readiness.js';
import type { Logger } from './logger.js';
import type { GraphQLContext } from './schema/builder.js';
import { schema } from './schema/index.js';
import type { Deps } from './services/session.js';

export interface AppOptions {
  deps: Deps;
  logger: Logger;
  /** Serve GraphiQL at /graphql (GET with Accept: text/html). */
  graphiql: boolean;
  /** Prefill GraphiQL's headers with this key (development demo account only). */
  demoApiKey?: string | undefined;
  /** /ready: true when the database (and Redis, if used) answer and the instance is not draining. */
  ready?: () => Promise<boolean>;
}

export type App = ReturnType<typeof createApp>;

export function createApp({ deps, logger, graphiql, demoApiKey, ready }: AppOptions) {
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // /health: the process is up (yoga's built-in check).
    healthCheckEndpoint: '/health',
    landingPage: false,
    // Replaced by useBodyLimit (same 413, without a stream per request).
    maxRequestBodySize: false,
    // No file uploads in this API: refuse multipart instead of parsing it.
    multipart: false,
    context: createContext(deps),
    // yoga logs at debug several times per request: bind only enabled levels,
    // so a disabled one costs nothing.
    logging: {
      debug: logger.isLevelEnabled('debug') ? (...args) => logger.debug({ args }, 'yoga') : () => {},
      info: logger.isLevelEnabled('info') ? (...args) => logger.info({ args }, 'yoga') : () => {},
      warn: (...args) => logger.warn({ args }, 'yoga'),
      error: (...args) => logger.error({ args }, 'yoga'),
    },
    maskedErrors: {
      // The client gets only the generic message — never a stack, SQL or file
      // path, even in development (yoga's default adds the original error
      // when NODE_ENV=development). useErrorLog below logged it in full.
      maskError: (error, message) => maskError(error, message, false),
    },
    graphiql: graphiql
      ? {
          title: 'Task schedule API',
          defaultQuery: EXAMPLE_QUERY,
          headers: JSON.stringify(demoApiKey ? { 'X-Access-Key': demoApiKey } : { 'X-Access-Key': '<your API key>' }),
          shouldPersistHeaders: false,
        }
      : false,
    renderGraphiQL,
    plugins: [
      useErrorLog(logger),
      useGraphiQLAssets(),
      useQueryLimits(),
      ...useJit(),
      // /ready: 200 when dependencies answer, 503 otherwise (or while draining).
      useReadiness(ready ?? (async () => true), logger),
      // 413 past 1 MB, by Content-Length or while streaming a chunked body.
      // Last: it wraps whichever request parser the plugins above chose.
      useBodyLimit(MAX_BODY_BYTES),
    ],
  });
}
