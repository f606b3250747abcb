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
import { type RawData, WebSocketServer } from 'ws';
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
/** connectionParams with more names than this are refused (4403): they are read once, but bounded. */
const MAX_PARAM_NAMES = 64;
/** Operation ids longer than this are refused (4400) rather than echoed in close reasons. */
const MAX_OPERATION_ID_LENGTH = 64;
/** A value a header may hold: no control characters (those would make Headers throw). */
const HEADER_VALUE = /^[\x20-\x7e\x80-\uffff]*$/;

export interface WebSocketDoor {
  /** Takes an HTTP upgrade request; refuses any path but /graphql. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every connection (1001, going away). Streams should have ended first. */
  close(): Promise<void>;
}

const usable = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= MAX_PARAM_LENGTH && HEADER_VALUE.test(value);

/**
 * The connection's credentials as header pairs, read once when it is set up:
 * from connectionParams (any case), else from the upgrade request's headers
 * (non-browser clients). A value that cannot be a key is left out (Unauthorized).
 */
function credentialsOf(params: Record<string, unknown> | undefined, request: IncomingMessage): [string, string][] {
  const found: [string, string][] = [];
  for (const [name, value] of Object.entries(params ?? {})) {
    const header = name.toLowerCase();
    if (CREDENTIAL_HEADERS.includes(header) && usable(value)) found.push([header, value]);
  }
  if (found.length > 0) return found;
  return CREDENTIAL_HEADERS.flatMap((name) => {
    const value = request.headers[name];
    return usable(value) ? [[name, value] as [string, string]] : [];
  });
}

const SERVER_ONLY = new Set(['next', 'error', 'connection_ack']);

/** Whether a client's message is one only a server may send (anything unparsable is graphql-ws's to refuse). */
function serverOnly(data: RawData): boolean {
  try {
    const message = JSON.parse(String(data)) as { type?: unknown } | null;
    return typeof message?.type === 'string' && SERVER_ONLY.has(message.type);
  } catch {
    return false;
  }
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
  // Keyed by the subscribe message's payload, one object per operation even
  // when a client reuses an id (graphql-ws hands it to every hook).
  const operations = new WeakMap<object, AbortController>();
  /** Each connection's unfinished operations: payload → id. */
  const ofConnection = new WeakMap<object, Map<object, string>>();
  const credentials = new WeakMap<object, [string, string][]>();
  let open = 0;
  const finish = (ctx: object, payload: object) => {
    const controller = operations.get(payload);
    if (!controller) return;
    operations.delete(payload);
    ofConnection.get(ctx)?.delete(payload);
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
      // Bounded, and read once per connection rather than once per operation.
      onConnect: (ctx) => {
        const params = ctx.connectionParams;
        if (params && Object.keys(params).length > MAX_PARAM_NAMES) return false;
        credentials.set(ctx, credentialsOf(params, ctx.extra.request));
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        try {
          const mine = ofConnection.get(ctx) ?? new Map<object, string>();
          ofConnection.set(ctx, mine);
          // An id whose operation has not finished yet (completed by the client
          // while still being set up): the protocol's answer to a duplicate.
          if ([...mine.values()].includes(id)) {
            ctx.extra.socket.close(4409, `Subscriber for ${id} already exists`);
            return [new GraphQLError(`Subscriber for ${id} already exists`)];
          }
          const controller = new AbortController();
          operations.set(payload, controller);
          mine.set(payload, id);
          open++;
          // A fixed URL: nothing of the client's (its Host header) is parsed.
          const request = new app.fetchAPI.Request('http://localhost/graphql', {
            method: 'POST',
            headers: credentials.get(ctx) ?? [],
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
      onError: (ctx, _id, payload) => finish(ctx, payload),
      onComplete: (ctx, _id, payload) => finish(ctx, payload),
      onClose: (ctx) => {
        for (const payload of [...(ofConnection.get(ctx)?.keys() ?? [])]) finish(ctx, payload);
      },
      // An id is echoed in close reasons (at most 123 bytes): refuse long ones as a bad message.
      jsonMessageReviver: (key, value) => {
        if (key === 'id' && typeof value === 'string' && value.length > MAX_OPERATION_ID_LENGTH) {
          throw new Error('operation id too long');
        }
        return value;
      },
    },
    wss,
    KEEP_ALIVE_MS,
  );
  wss.on('error', (err) => logger.error({ err }, 'websocket server error'));
  // A peer's bad frame (too large, invalid UTF-8, unmasked) is its mistake, not
  // a server fault: logged quietly instead of graphql-ws's console.error (ws
  // closes the socket itself with the fitting code). Added after useServer's
  // own 'connection' listener, so it replaces that one's.
  wss.on('connection', (socket) => {
    socket.removeAllListeners('error');
    socket.on('error', (err) => logger.info({ err: { message: err.message }, transport: 'websocket' }, 'client error'));
    // A message only a server sends (next, error, connection_ack) makes
    // graphql-ws throw, print a stack and close with 4500: answer it as the
    // bad message it is (4400), before graphql-ws sees it.
    const handlers = socket.listeners('message') as ((data: RawData, isBinary: boolean) => void)[];
    socket.removeAllListeners('message');
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (serverOnly(data)) {
        logger.info({ transport: 'websocket' }, 'client error: a server-only message');
        socket.close(4400, 'Invalid message received');
        return;
      }
      for (const handler of handlers) handler.call(socket, data, isBinary);
    });
  });
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
