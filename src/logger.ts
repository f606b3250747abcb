// Structured JSON logs (pino). The level comes from LOG_LEVEL.
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  // Synchronous writes to stdout: pino's default asynchronous stream flushes
  // at exit with a loop that retries a broken pipe (EPIPE) forever, so a
  // server whose log reader died could never stop, not even on its own exit timer.
  return pino(
    { level, base: { service: 'task-schedule-graphql', pid: process.pid } },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
