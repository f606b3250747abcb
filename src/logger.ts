// Structured JSON logs (pino). The level comes from LOG_LEVEL.
import { pino } from 'pino';

export type Logger = pino.Logger;

type Destination = ReturnType<typeof pino.destination>;
/** The stdout streams of loggers this module made, for flushAndExit. */
const destinations = new WeakMap<Logger, Destination>();

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  // Asynchronous, pino's default: a slow log reader never blocks the event loop.
  const stdout = destination ? undefined : pino.destination({ fd: 1, sync: false });
  const logger = pino({ level, base: { service: 'task-schedule-graphql', pid: process.pid } }, destination ?? stdout);
  if (stdout) destinations.set(logger, stdout);
  return logger;
}

/**
 * Exits once the lines logged so far are written, or after a second. pino's
 * own exit hook flushes what is left with a synchronous loop that retries a
 * broken pipe (EPIPE) forever (sonic-boom 4.2): a process whose log reader
 * died could never stop, not even on its own exit timer. So the flush happens
 * here, asynchronously and bounded, and the exit hook is left nothing to do.
 */
export function flushAndExit(logger: Logger, code: number): Promise<never> {
  return new Promise(() => {
    const stdout = destinations.get(logger);
    const exit = () => {
      // Whatever did not get out in time is dropped rather than retried forever.
      if (stdout) stdout.flushSync = () => {};
      process.exit(code);
    };
    setTimeout(exit, 1_000);
    if (!stdout) {
      logger.flush(() => exit());
      return;
    }
    // sonic-boom's flush(cb) answers at once without a minimum length; its
    // own counters say when the last line is out. With a broken pipe they
    // never empty (pino stops writing): the timer above ends the wait.
    const state = stdout as unknown as { _writing: boolean; _len: number };
    const poll = setInterval(() => {
      if (!state._writing && state._len === 0) {
        clearInterval(poll);
        exit();
      }
    }, 5);
  });
}
