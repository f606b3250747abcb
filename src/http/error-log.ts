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

const MASKED_MESSAGE = 'Unexpected error.';
/** Quoted strings in a message, paired left to right; long ones are client input. */
const QUOTED = /"((?:[^"\\]|\\.)*)"/g;
const LONG = 40;
const MAX_MESSAGE = 1000;

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

/** graphql-js quotes the values it refuses (`got invalid value "…"`): keep a prefix of each. */
export function shortMessage(message: string): string {
  const short = message.replace(QUOTED, (whole, inner: string) =>
    inner.length > LONG ? quote(unquoted(inner)) : whole,
  );
  return short.length > MAX_MESSAGE ? `${short.slice(0, MAX_MESSAGE)}…` : short;
}

function isOriginalGraphQLError(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  return error.originalError == null || isOriginalGraphQLError(error.originalError);
}

/** The same error with a shortened message (itself when short already). */
function shortened(error: GraphQLError): GraphQLError {
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

export function useErrorLog(logger: Logger): Plugin {
  return {
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result) || !result.errors?.length) return;
          const request = (args.contextValue as { request?: Request }).request;
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
        },
      };
    },
    onResultProcess({ request, result, setResult }) {
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
