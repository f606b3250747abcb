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

export function createWebSocketDoor(app: App, logger: Logger): WebSocketDoor {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  type Roots = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
  const server = useServer(
    {
      // Never a server error's message in a close reason.
      isProd: true,
      execute: (args) => (args.rootValue as Roots).execute(args) as never,
      subscribe: (args) => (args.rootValue as Roots).subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
        const request = new app.fetchAPI.Request(`http://${ctx.extra.request.headers.host ?? 'localhost'}/graphql`, {
          method: 'POST',
          headers: credentialHeaders(ctx.connectionParams, ctx.extra.request),
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
          // Answered as an error message; thrown, it would close the socket (4500).
          if (e instanceof GraphQLError) return [withoutHttp(e)];
          throw e;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors.map(withoutHttp);
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies Roots,
        };
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => withoutHttp(e).toJSON()) } : undefined,
    },
    wss,
    KEEP_ALIVE_MS,
  );
  wss.on('error', (err) => logger.error({ err }, 'websocket server error'));
  let closed: Promise<void> | undefined;

  return {
    handleUpgrade(request, socket, head) {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (path !== '/graphql') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
    },
    // dispose() closes every connection with 1001 (going away).
    close: () => {
      closed ??= Promise.resolve(server.dispose());
      return closed;
    },
  };
}
