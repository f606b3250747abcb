// Entry point: take the port, start the runtime, shut down gracefully.
// Everything else is in runtime.ts.
import { createServer, type RequestListener, type Server } from 'node:http';
import { type Config, loadConfigOrExit } from './config.js';
import { withRequestContext } from './http/request-context.js';
import { createLogger, flushAndExit } from './logger.js';
import { createRuntime, type Runtime } from './runtime.js';

/**
 * After SIGTERM/SIGINT, in-flight requests (or a start in progress) get this
 * long before the process exits anyway: inside Docker's default 10 s grace.
 * A dispatching instance waits for its runs' current attempts instead, up to
 * the executor timeout (give such instances a longer stop grace period).
 */
const DRAIN_MS = 8_000;

const config = loadConfigOrExit();

const logger = createLogger(config.logLevel);

// Until the runtime is ready: the process is up (/health) but serves nothing.
const starting: RequestListener = (req, res) => {
  const up = req.url === '/health';
  res.writeHead(up ? 200 : 503, up ? {} : { 'retry-after': '1' }).end();
};
// (Timeouts are enforced every connectionsCheckingInterval: 5 s, not 30 s.)
const server = createServer({ connectionsCheckingInterval: 5_000 }, starting);
// A request (headers and body) must arrive within 30 s, not Node's 5 minutes:
// a client trickling a body it declared large holds a connection no longer.
// Responses (SSE streams) and upgraded sockets are not bound by it.
server.headersTimeout = 20_000;
server.requestTimeout = 30_000;
// GraphQL over WebSocket, once the runtime is ready.
server.on('upgrade', (req, socket, head) => {
  if (!runtime || stopping) {
    // (The door adds its own; this answer is given without it.)
    socket.on('error', () => {});
    socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  runtime.webSocket.handleUpgrade(req, socket, head);
});

/** Binds the port, or says in one line why it cannot. */
function listen(server: Server, { port, host }: Config): Promise<void> {
  return new Promise((resolve) => {
    const refuse = (e: NodeJS.ErrnoException) => {
      const where = host ? `${host}:${port}` : `port ${port}`;
      if (e.code === 'EADDRINUSE') console.error(`Port ${port} is already in use (set PORT to another port).`);
      else if (e.code === 'EACCES') console.error(`Not allowed to listen on ${where} (set PORT to another port).`);
      else console.error(`Cannot listen on ${where}: ${e.message}`);
      process.exit(1);
    };
    server.once('error', refuse);
    server.listen(port, host, () => {
      server.off('error', refuse);
      resolve();
    });
  });
}

// The port first: a start that cannot listen must not have migrated or seeded anything.
await listen(server, config);
const address = server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
const url = `http://localhost:${port}/graphql`;
logger.info({ port }, 'port bound, starting');

let runtime: Runtime | undefined;
let stopping = false;
const startingRuntime = createRuntime(config, logger);
startingRuntime.then((ready) => {
  if (ready.demo) {
    // Printed plainly (not only logged) so a person starting the server sees
    // it; even if a signal came meanwhile, as the key is never shown again.
    console.log(
      `\nDemo account created. Open ${url} — GraphiQL sends its key for you.\n` +
        `API key (header X-Access-Key): ${ready.demo.apiKey}\n`,
    );
  }
  if (stopping) return; // shutdown() closes it
  runtime = ready;
  server.off('request', starting);
  server.on('request', withRequestContext(ready.app, logger));
  // "listening" with the url means "ready": tests and scripts wait for it.
  logger.info({ url }, 'listening');
}, fail);

function fail(err: unknown): void {
  logger.fatal({ err }, 'start failed');
  void flushAndExit(logger, 1);
}

async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: finishing in-flight requests');
  // Runs in flight may take up to the executor timeout to end and be recorded.
  const limitMs = Math.max(DRAIN_MS, config.runs.dispatch ? config.runs.timeoutMs + 5_000 : 0);
  setTimeout(() => {
    logger.warn(`did not stop in ${limitMs / 1000}s (in-flight requests, runs or start-up); exiting`);
    void flushAndExit(logger, 1);
  }, limitMs).unref();
  // Ends every subscription: SSE responses and WebSocket operations complete.
  runtime?.drain();
  // Stop accepting; close idle keep-alive sockets; busy ones close after their response.
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  if (runtime) {
    // Time for the completions to be written before the sockets close.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await runtime.webSocket.close();
    // The connections of ended SSE responses are idle now.
    server.closeIdleConnections();
  }
  await closed;
  // Signalled while starting: let the start finish, then close what it opened.
  await (runtime ?? (await startingRuntime.catch(() => undefined)))?.close();
  logger.info('stopped');
  await flushAndExit(logger, 0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
