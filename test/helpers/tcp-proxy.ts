// A TCP proxy on 127.0.0.1 in front of a server the suites share (Redis), for
// one client: cut and restored at will, and optionally slow, so "the server
// goes away and comes back" or "the server is far" happens to that client
// alone, not to every suite running against the real server.
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly #target: URL;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** Kept across cut() and up(): clients reconnect to the same address. */
  port = 0;

  /** `latencyMs`: each chunk is forwarded that much later, in order (a slow link). */
  constructor(
    target: string | URL,
    readonly latencyMs = 0,
  ) {
    this.#target = new URL(target);
    // Redis's port when the URL names none: Redis is the only server proxied so far.
    const port = Number(this.#target.port || 6379);
    this.#server = createServer((client) => {
      const upstream = connect({ host: this.#target.hostname, port });
      const forward = (from: Socket, to: Socket) =>
        from.on('data', (chunk) => {
          if (this.latencyMs === 0) to.write(chunk);
          else setTimeout(() => to.writable && to.write(chunk), this.latencyMs);
        });
      forward(client, upstream);
      forward(upstream, client);
      // Either side gone: so is the other, as over a real connection.
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => {
          this.#sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
        s.on('error', () => s.destroy());
      }
    });
  }

  /** The target's URL (scheme, credentials, path) with the proxy's address. */
  get url(): string {
    const url = new URL(this.#target);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async up(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.#server.address() as AddressInfo).port;
  }

  /** Refuses new connections and drops the open ones, as a server that went away. Idempotent. */
  async cut(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}
