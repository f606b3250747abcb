// `npm run scheduler`: a dispatcher alone, no HTTP port. For deployments that
// scale the API and the dispatchers apart: API instances set SCHEDULER=off
// (runTask still works there: it queues the run for a dispatcher).
import { loadConfigOrExit } from './config.js';
import { createLogger, flushAndExit } from './logger.js';
import { createRuntime } from './runtime.js';

const config = loadConfigOrExit();
if (!config.runs.executorUrl) {
  console.error('The scheduler needs EXECUTOR_URL and EXECUTOR_SECRET: without an executor nothing can run.');
  process.exit(1);
}

const logger = createLogger(config.logLevel);
// SCHEDULER=off is for API instances; this process is the scheduler.
const runtime = await createRuntime({ ...config, runs: { ...config.runs, dispatch: true } }, logger).catch(
  (err): Promise<never> => {
    logger.fatal({ err }, 'start failed');
    return flushAndExit(logger, 1);
  },
);
if (!config.redisUrl) {
  logger.warn(
    'no REDIS_URL: subscribers of the API instances will not hear of the runs made here (set the same REDIS_URL as theirs)',
  );
}
logger.info('scheduler running');

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: finishing runs in flight');
  const limitMs = config.runs.timeoutMs + 5_000;
  setTimeout(() => {
    logger.warn(`did not stop in ${limitMs / 1000}s; exiting`);
    void flushAndExit(logger, 1);
  }, limitMs).unref();
  runtime.drain();
  await runtime.close();
  logger.info('stopped');
  await flushAndExit(logger, 0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
