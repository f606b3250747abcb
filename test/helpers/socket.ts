// The app behind a real socket on 127.0.0.1, for tests that need HTTP as a
// client sends it (real clients, concurrency, raw bytes).
import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Duplex, Writable } from 'node:stream';
import { withRequestContext } from '../../src/http/request-context.js';
import { createLogger } from '../../src/logger.js';

export interface Listening {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** The GraphQL endpoint: `${origin}/graphql`. */
  url: string;
  /** The same endpoint for WebSocket clients: `ws://…/graphql`. */
  wsUrl: string;
  close(): Promise<void>;
}

/** What takes HTTP upgrades (the WebSocket door, src/http/websocket.ts). */
export interface Upgrades {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export async function listen(handler: RequestListener, upgrades?: Upgrades): Promise<Listening> {
  const server = createServer(handler);
  if (upgrades) server.on('upgrade', (req, socket, head) => upgrades.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: `${origin}/graphql`,
    wsUrl: `${origin.replace('http', 'ws')}/graphql`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The handler behind `npm start`'s request wrapper (request ids, the bad-Host
 * check, the access log), its log lines (info and up) pushed to `lines`.
 */
export function listenAsStarted(handler: RequestListener, lines: string[]): Promise<Listening> {
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  return listen(withRequestContext(handler, logger));
}
