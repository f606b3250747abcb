// Entry point: listen, and shut down gracefully. Everything else is in runtime.ts.
import { createServer } from 'node:http';
import { ConfigError, loadConfig } from './config.js';
import { withRequestContext } from './http/request-context.js';
import { createLogger } from './logger.js';
import { createRuntime } from './runtime.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(1);
}

const logger = createLogger(config.logLevel);
const runtime = await createRuntime(config, logger);
const server = createServer(withRequestContext(runtime.app, logger));

server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://localhost:${port}/graphql`;
  logger.info({ url }, 'listening');
  if (runtime.demo) {
    // Printed plainly (not only logged) so a person starting the server sees it.
    console.log(
      `\nDemo account created. Open ${url} — GraphiQL sends its key for you.\n` +
        `API key (header X-Access-Key): ${runtime.demo.apiKey}\n`,
    );
  }
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: finishing in-flight requests');
  runtime.drain();
  // Stop accepting; close idle keep-alive sockets; busy ones close after their response.
  server.close(async () => {
    await runtime.close();
    logger.info('stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
  setTimeout(() => {
    logger.warn('in-flight requests did not finish in 10s; exiting');
    process.exit(1);
  }, 10_000).unref();
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
