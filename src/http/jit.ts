import { useGraphQlJit } from '@envelop/graphql-jit';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * graphql-jit compiles each document once into a specialised function, so
 * execution skips graphql-js's generic per-field walk (the hot read's largest
 * framework cost after HTTP). One difference is mended here: jit reports bad
 * variables as a result with errors and no data but without the HTTP status
 * graphql-js's executor attaches, which would turn a request error into a 200.
 */
export function useJit(): Plugin[] {
  const requestErrorStatus: Plugin = {
    onExecute: () => ({
      onExecuteDone({ result, setResult }) {
        if (!('errors' in result) || !result.errors || ('data' in result && result.data !== undefined)) return;
        setResult({
          ...result,
          errors: result.errors.map(
            (e) =>
              new GraphQLError(e.message, {
                nodes: e.nodes,
                source: e.source,
                positions: e.positions,
                path: e.path,
                originalError: e.originalError,
                extensions: { ...e.extensions, http: { status: 400 } },
              }),
          ),
        });
      },
    }),
  };
  return [useGraphQlJit() as Plugin, requestErrorStatus];
}
