// A subscription asked for over plain HTTP (no Accept that streams) would get
// yoga's bare 406 only after its subscribe ran, and yoga would never end the
// stream it opened: the rate-limit unit, the per-account slot and the bus
// listener would stay taken. Refused here, before anything runs, with a clear
// message (still 406).
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * The response type yoga streams a subscription in (GraphQL over SSE). Not
 * multipart/mixed: yoga answers a subscription asked for in it with a 406 too.
 */
const STREAMING = ['text/event-stream'];

/** Requests that stand for a WebSocket operation (src/http/websocket.ts): they stream by nature. */
const viaWebSocket = new WeakSet<Request>();

export function markWebSocketRequest(request: Request): void {
  viaWebSocket.add(request);
}

/** Whether this Accept takes an event stream (yoga's rules: wildcards, utf-8 only; and q=0 refuses). */
function acceptsStream(request: Request): boolean {
  const accept = (request.headers.get('accept') || '*/*').replace(/\s/g, '').toLowerCase();
  return accept.split(',').some((entry) => {
    const [type = '', ...params] = entry.split(';');
    const charset = params.find((p) => p.startsWith('charset='));
    if (charset && charset !== 'charset=utf-8') return false;
    // q=0: "not acceptable" (RFC 9110), though yoga would stream anyway.
    if (params.some((p) => /^q=0(\.0*)?$/.test(p))) return false;
    const [pre, suf] = type.split('/');
    return STREAMING.some((streaming) => {
      const [sPre, sSuf] = streaming.split('/');
      return (pre === '*' || pre === sPre) && (suf === '*' || suf === sSuf);
    });
  });
}

export function useSubscriptionTransport(): Plugin {
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const request = (args.contextValue as { request?: Request }).request;
      if (!request || viaWebSocket.has(request) || acceptsStream(request)) return;
      setResultAndStopExecution({
        errors: [
          new GraphQLError(
            'A subscription streams its events: ask with Accept: text/event-stream (GraphQL over SSE), ' +
              'or subscribe over a WebSocket (graphql-ws) on /graphql.',
            { extensions: { code: 'NOT_ACCEPTABLE', http: { status: 406 } } },
          ),
        ],
      });
    },
  };
}
