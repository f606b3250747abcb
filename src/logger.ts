// Structured JSON logs (pino). The level comes from LOG_LEVEL.
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'task-schedule-graphql', pid: process.pid } }, destination);
}
