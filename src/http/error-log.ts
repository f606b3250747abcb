// What reaches a response's top-level `errors`, and what the logs say of it.
// (Expected failures never get here: they are union members in `data`.)
//
// - An unexpected failure (anything thrown that is not a GraphQL error) is
//   masked here, with the request at hand, and logged once at `error` with its
//   stack and request id. yoga's own masking then finds nothing left to mask,
//   so it logs nothing more.
// - A client mistake (malformed JSON or GraphQL, unknown fields, bad
//   variables, refused documents) is logged once per request at `info`,
//   without a stack: anyone can send them, so they must not flood error logs.
// - No message repeats more than a short prefix of what the client sent.
import { type ExecutionResult, GraphQLError } from 'graphql';
import { isAsyncIterable, maskError, type Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { quote } from '../services/quote.js';

export const MASKED_MESSAGE = 'Unexpected error.';
/** A quoted string longer than this in a message is client input: cut to a prefix. */
const LONG = 40;
/** No message is longer (ours are under 200 characters). */
const MAX_MESSAGE = 300;
/** Only this much of a message is looked at: the rest would be cut anyway. */
const SCAN = 8192;

function requestIdOf(request: Request | undefined): string | undefined {
  return request?.headers.get('x-request-id') ?? undefined;
}

/** The text of a JSON string literal's inside (as graphql-js's inspect wrote it). */
function unquoted(inner: string): string {
  try {
    return JSON.parse(`"${inner}"`) as string;
  } catch {
    return inner;
  }
}

/**
 * graphql-js quotes what it refuses (`got invalid value "…"`, `found String
 * "…"`): keep a prefix of each long quoted part, and of the whole message. One
 * pass, left to right, never rescanning (a regex over the message backtracked
 * quadratically on a crafted syntax error: 2.5 s for a 128 KB document).
 */
export function shortMessage(message: string): string {
  if (message.length <= LONG && !message.includes('"')) return message;
  const text = message.length > SCAN ? message.slice(0, SCAN) : message;
  let out = '';
  let i = 0;
  while (i < text.length && out.length <= MAX_MESSAGE) {
    const open = text.indexOf('"', i);
    if (open < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, open);
    // The closing quote: the next one not escaped by a backslash, or the end.
    let close = open + 1;
    while (close < text.length && text[close] !== '"') close += text[close] === '\\' ? 2 : 1;
    const inner = text.slice(open + 1, close);
    out += inner.length > LONG ? quote(unquoted(inner)) : text.slice(open, close + 1);
    i = close + 1;
  }
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
}

function isOriginalGraphQLError(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  return error.originalError == null || isOriginalGraphQLError(error.originalError);
}

/** The same error with a shortened message (itself when short already). */
export function shortened(error: GraphQLError): GraphQLError {
  const message = shortMessage(error.message);
  if (message === error.message) return error;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: error.extensions,
  });
}

/**
 * yoga's own logger. It logs at debug several times per request: only enabled
 * levels are bound, so a disabled one costs nothing. Its error lines are for
 * failures outside execution (masked by yoga itself, which logs each twice):
 * the error goes under `err` (so pino prints its stack), once.
 */
export function yogaLogger(logger: Logger) {
  const logged = new WeakSet<object>();
  return {
    debug: logger.isLevelEnabled('debug') ? (...args: unknown[]) => logger.debug({ args }, 'yoga') : () => {},
    info: logger.isLevelEnabled('info') ? (...args: unknown[]) => logger.info({ args }, 'yoga') : () => {},
    warn: (...args: unknown[]) => logger.warn({ args }, 'yoga'),
    error: (...args: unknown[]) => {
      const err = args.find((a): a is Error => a instanceof Error);
      if (!err) return logger.error({ args }, 'yoga');
      if (logged.has(err)) return;
      logged.add(err);
      logger.error({ err }, 'unexpected error (masked)');
    },
  };
}

export function useErrorLog(logger: Logger): Plugin {
  /** Logs each unexpected error of a result once, and masks it. */
  function maskUnexpected(
    contextValue: unknown,
    result: ExecutionResult,
    setResult: (result: ExecutionResult) => void,
  ): void {
    if (!result.errors?.length) return;
    const request = (contextValue as { request?: Request }).request;
    let masked = false;
    const errors = result.errors.map((error) => {
      if (isOriginalGraphQLError(error)) return error;
      masked = true;
      logger.error(
        { err: error.originalError ?? error, requestId: requestIdOf(request), path: error.path },
        'unexpected error (masked)',
      );
      return maskError(error, MASKED_MESSAGE, false) as GraphQLError;
    });
    if (masked) setResult({ ...result, errors });
  }
  return {
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          if (!isAsyncIterable(result)) maskUnexpected(args.contextValue, result, setResult);
        },
      };
    },
    // A subscription: its refusal, and each event (an event's nested field may fail).
    onSubscribe({ args }) {
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) {
            maskUnexpected(args.contextValue, result, setResult);
            return;
          }
          return { onNext: ({ result, setResult }) => maskUnexpected(args.contextValue, result, setResult) };
        },
      };
    },
    onResultProcess({ request, result, setResult }) {
      if (!Array.isArray(result) && (isAsyncIterable(result) || !(result as ExecutionResult).errors)) return;
      const results = (Array.isArray(result) ? result : [result]) as ExecutionResult[];
      if (results.some((r) => isAsyncIterable(r))) return;
      const mistakes: string[] = [];
      let changed = false;
      const next = results.map((r) => {
        if (!r.errors?.length) return r;
        const errors = r.errors.map((e) => {
          const short = e instanceof GraphQLError ? shortened(e) : e;
          if (short !== e) changed = true;
          if (short.extensions?.code !== 'INTERNAL_SERVER_ERROR') mistakes.push(short.message);
          return short;
        });
        return { ...r, errors };
      });
      if (mistakes.length > 0 && logger.isLevelEnabled('info')) {
        logger.info({ requestId: requestIdOf(request), errors: mistakes.slice(0, 5) }, 'client error');
      }
      if (changed) setResult((Array.isArray(result) ? next : next[0]!) as typeof result);
    },
  };
}
