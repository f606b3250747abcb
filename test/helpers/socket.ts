// The app behind a real socket on 127.0.0.1, for tests that need HTTP as a
// client sends it (real clients, concurrency, raw bytes).
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** The GraphQL endpoint: `${origin}/graphql`. */
  url: string;
  close(): Promise<void>;
}

export async function listen(handler: RequestListener): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: `${origin}/graphql`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
