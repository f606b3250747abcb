// The yoga application: schema, per-request context, masking and limits. It
// does not listen; server.ts does, and tests call `app.fetch` directly.
import { createYoga, maskError } from 'graphql-yoga';
import { createContext, type SessionsByRequest } from './context.js';
import { useBodyLimit } from './http/body-limit.js';
import { type CorsOrigins, corsFor, useVaryOrigin } from './http/cors.js';
import { useDocumentGuards } from './http/document-guards.js';
import { useErrorLog, yogaLogger } from './http/error-log.js';
import { EXAMPLE_QUERY } from './http/example-query.js';
import { renderGraphiQL, useGraphiQLAssets } from './http/graphiql.js';
import { useStrictJsonBody } from './http/json-body.js';
import { MAX_BODY_BYTES, useQueryLimits } from './http/limits.js';
import { usePlannedRunsBudget } from './http/planned-runs-budget.js';
import { useRateLimitHeaders } from './http/rate-limit-headers.js';
import { useReadiness } from './http/readiness.js';
import { useSubscriptionTransport } from './http/subscription-transport.js';
import type { Logger } from './logger.js';
import { useRestDoors } from './rest/router.js';
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
  /** Browser origins allowed by CORS (default: any, never with credentials). */
  corsOrigins?: CorsOrigins;
  /**
   * yoga's cache of parsed and validated documents (default on). The
   * differential test checks answers are byte for byte the same without it.
   */
  documentCache?: boolean;
}

export type App = ReturnType<typeof createApp>;

export function createApp({
  deps,
  logger,
  graphiql,
  demoApiKey,
  ready,
  corsOrigins = '*',
  documentCache = true,
}: AppOptions) {
  const sessions: SessionsByRequest = new WeakMap();
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
    parserAndValidationCache: documentCache,
    context: createContext(deps, sessions),
    cors: corsFor(corsOrigins),
    logging: yogaLogger(logger),
    maskedErrors: {
      // The client gets only the generic message — never a stack, SQL or file
      // path, even in development (yoga's default adds the original error
      // when NODE_ENV=development). useErrorLog below logged it in full.
      maskError: (error, message) => maskError(error, message, false),
      // Nor the original error of a refused request (yoga adds it in
      // development): a JSON parser's message quotes the client's body.
      isDev: false,
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
      // The four public REST APIs' paths, answered before yoga parses anything.
      useRestDoors(deps, logger, sessions),
      useGraphiQLAssets(),
      useQueryLimits(),
      // After armor, whose token limit replaces the parse function outright.
      useDocumentGuards(),
      usePlannedRunsBudget(),
      useSubscriptionTransport(),
      useStrictJsonBody(),
      useRateLimitHeaders(sessions),
      useVaryOrigin(corsOrigins),
      // /ready: 200 when dependencies answer, 503 otherwise (or while draining).
      useReadiness(ready ?? (async () => true), logger),
      // 413 past 1 MB, by Content-Length or while streaming a chunked body.
      // Last: it wraps whichever request parser the plugins above chose.
      useBodyLimit(MAX_BODY_BYTES),
    ],
  });
}
