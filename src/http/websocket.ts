// GraphQL over WebSocket (the graphql-ws protocol, what Apollo's
// GraphQLWsLink and urql's subscriptionExchange speak) on /graphql, by
// upgrade. It runs through yoga's own envelop, so a WebSocket operation gets
// the same schema, limits, guards, context, masking and logging as over HTTP.
// The API key travels in connectionParams (browsers cannot set headers on a
// WebSocket); names are matched case-insensitively, as HTTP headers are.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { App } from '../app.js';
import type { Logger } from '../logger.js';
import type { CorsOrigins } from './cors.js';
import { MASKED_MESSAGE, shortened } from './error-log.js';
import { MAX_BODY_BYTES } from './limits.js';
import { markWebSocketRequest } from './subscription-transport.js';

/** Ping frames keep idle connections open through proxies (and find dead peers). */
const KEEP_ALIVE_MS = 12_000;

/** Credentials a connection may carry in connectionParams, as the headers they stand for. */
const CREDENTIAL_HEADERS = ['x-access-key', 'authorization'];
/** Longer values are not keys (the key check refuses them anyway); never copied. */
const MAX_PARAM_LENGTH = 1_024;

export interface WebSocketDoor {
  /** Takes an HTTP upgrade request; refuses any path but /graphql. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every connection (1001, going away). Streams should have ended first. */
  close(): Promise<void>;
}

function credentialHeaders(params: unknown, request: IncomingMessage): Headers {
  const headers = new Headers();
  const given =
    params && typeof params === 'object'
      ? Object.entries(params as Record<string, unknown>)
      : ([] as [string, unknown][]);
  for (const name of CREDENTIAL_HEADERS) {
    const value = given.find(([k]) => k.toLowerCase() === name)?.[1];
    if (typeof value === 'string' && value.length <= MAX_PARAM_LENGTH) headers.set(name, value);
  }
  // Non-browser clients may send the header on the upgrade request itself.
  if (![...headers.keys()].length) {
    for (const name of CREDENTIAL_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string' && value.length <= MAX_PARAM_LENGTH) headers.set(name, value);
    }
  }
  return headers;
}

/** What yoga adds for HTTP (a status for the response) means nothing on a socket. */
function withoutHttp(error: GraphQLError): GraphQLError {
  if (!('http' in error.extensions)) return error;
  const { http: _http, ...extensions } = error.extensions;
  // Still a GraphQLError: graphql-ws accepts only those from onSubscribe.
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions,
  });
}

export interface WebSocketDoorOptions {
  /** Browser origins allowed (as for CORS): a page of another origin cannot open a socket. */
  corsOrigins?: CorsOrigins;
}

/** How long SIGTERM waits for open operations to send their completion, and then for closing handshakes. */
const CLOSE_GRACE_MS = 1_000;

export function createWebSocketDoor(
  app: App,
  logger: Logger,
  { corsOrigins = '*' }: WebSocketDoorOptions = {},
): WebSocketDoor {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  type Roots = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
  /**
   * Each operation's abort controller, by connection and id: its request's
   * signal tells the subscription the operation is over even when graphql-ws
   * never calls the stream's return() (an id reused, a socket gone).
   */
  const operations = new WeakMap<object, Map<string, AbortController>>();
  let open = 0;
  const finish = (ctx: object, id: string) => {
    const controller = operations.get(ctx)?.get(id);
    if (!controller) return;
    operations.get(ctx)?.delete(id);
    open--;
    controller.abort();
  };
  /** A client's mistake, as the HTTP door answers it: shortened, logged quietly. */
  const mistakes = (errors: readonly GraphQLError[]): GraphQLError[] => {
    const short = errors.map((e) => withoutHttp(shortened(e)));
    if (logger.isLevelEnabled('info')) {
      logger.info({ transport: 'websocket', errors: short.slice(0, 5).map((e) => e.message) }, 'client error');
    }
    return short;
  };

  const server = useServer(
    {
      // Never a server error's message in a close reason.
      isProd: true,
      execute: (args) => (args.rootValue as Roots).execute(args) as never,
      subscribe: (args) => (args.rootValue as Roots).subscribe(args) as never,
      onSubscribe: async (ctx, id, payload) => {
        try {
          finish(ctx, id); // a reused id: the operation it named is over
          const controller = new AbortController();
          let byId = operations.get(ctx);
          if (!byId) operations.set(ctx, (byId = new Map()));
          byId.set(id, controller);
          open++;
          // A fixed URL: nothing of the client's (its Host header) is parsed.
          const request = new app.fetchAPI.Request('http://localhost/graphql', {
            method: 'POST',
            headers: credentialHeaders(ctx.connectionParams, ctx.extra.request),
            signal: controller.signal,
          });
          markWebSocketRequest(request);
          const { schema, execute, subscribe, contextFactory, parse, validate } = app.getEnveloped({
            ...ctx,
            request,
            params: payload,
          });
          let document: ReturnType<typeof parse>;
          try {
            document = parse(payload.query);
          } catch (e) {
            if (e instanceof GraphQLError) return mistakes([e]);
            throw e;
          }
          const errors = validate(schema, document);
          if (errors.length > 0) return mistakes(errors);
          return {
            schema,
            document,
            operationName: payload.operationName,
            variableValues: payload.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe } satisfies Roots,
          };
        } catch (err) {
          // Thrown, it would close the whole connection (4500): answer this operation only.
          logger.error({ err, transport: 'websocket' }, 'unexpected error (masked)');
          return [new GraphQLError(MASKED_MESSAGE, { extensions: { code: 'INTERNAL_SERVER_ERROR' } })];
        }
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => withoutHttp(shortened(e)).toJSON()) } : undefined,
      onError: (ctx, id) => finish(ctx, id),
      onComplete: (ctx, id) => finish(ctx, id),
      onClose: (ctx) => {
        for (const id of [...(operations.get(ctx)?.keys() ?? [])]) finish(ctx, id);
      },
    },
    wss,
    KEEP_ALIVE_MS,
  );
  wss.on('error', (err) => logger.error({ err }, 'websocket server error'));
  let closed: Promise<void> | undefined;

  async function close(): Promise<void> {
    // Streams were ended (runtime.drain): let each operation send its completion.
    const until = Date.now() + CLOSE_GRACE_MS;
    while (open > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    // A peer that never answers the closing handshake must not hold the shutdown.
    const stragglers = setTimeout(() => {
      for (const client of wss.clients) client.terminate();
    }, CLOSE_GRACE_MS);
    try {
      await server.dispose(); // 1001, going away
    } finally {
      clearTimeout(stragglers);
    }
  }

  return {
    handleUpgrade(request, socket, head) {
      // Node stops listening for this socket's errors once it emits 'upgrade':
      // a reset would be an uncaught error (ws adds its own handler later).
      socket.on('error', () => {});
      try {
        // The path as sent (no URL parsing of client input that could throw).
        const path = (request.url ?? '').split('?')[0];
        if (path !== '/graphql') {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        const origin = request.headers.origin;
        if (origin && corsOrigins !== '*' && !corsOrigins.includes(origin)) {
          socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
      } catch (err) {
        logger.error({ err }, 'websocket upgrade failed');
        socket.destroy();
      }
    },
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}
