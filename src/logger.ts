// Structured JSON logs (pino). The level comes from LOG_LEVEL; lines written
// while a request runs carry its requestId.
import { pino } from 'pino';
import { requestContext } from './http/request-context.js';

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'task-schedule-graphql', pid: process.pid },
      mixin: () => requestContext.getStore() ?? {},
    },
    destination,
  );
}
