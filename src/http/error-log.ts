import { useErrorHandler } from '@envelop/core';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';

/**
 * Logs every error that reaches the response's top-level `errors` in full,
 * with the request id, before yoga masks it. (Expected failures never get
 * here: they are union members in `data`.)
 */
export function useErrorLog(logger: Logger): Plugin {
  return useErrorHandler(({ errors, context, phase }) => {
    if (phase !== 'execution' && phase !== 'context') return;
    const request = (context as { request?: Request }).request;
    const requestId = request?.headers.get('x-request-id') ?? undefined;
    for (const error of errors) {
      const original = (error as { originalError?: unknown }).originalError ?? error;
      logger.error({ err: original, requestId, path: (error as { path?: unknown }).path }, 'unexpected error (masked)');
    }
  }) as Plugin;
}
