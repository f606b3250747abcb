// A real execution service for tests: a node:http server on a free port that
// verifies each request's signature the way the README tells operators to,
// records what it received, and answers as the test says.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  runId: string;
  taskId: string;
  accountId: string;
  scheduledFor: string;
  attempt: number;
  /** The signature checked out with the shared secret. */
  signatureValid: boolean;
  headers: IncomingMessage['headers'];
}

/** Answers one delivery: a status (and body), or takes the response itself. */
export type Behaviour = (d: Delivery, res: ServerResponse) => void | Promise<void>;

export const EXECUTOR_SECRET = 'test-executor-secret-0123456789';

/** The README's verification, verbatim in spirit: recompute, compare in constant time, refuse old timestamps. */
export function verify(req: IncomingMessage, secret: string, toleranceSeconds = 300): boolean {
  const header = String(req.headers['x-signature'] ?? '');
  const { t, v1 } = Object.fromEntries(header.split(',').map((kv) => kv.split('=')));
  // `!(… <= …)` also refuses a missing or non-numeric t (NaN).
  if (!v1 || !(Math.abs(Date.now() / 1000 - Number(t)) <= toleranceSeconds)) return false;
  const expected = createHmac('sha256', secret)
    .update(`${t}.${req.method}.${req.url}.${req.headers['x-run-id']}`)
    .digest('hex');
  return v1.length === expected.length && timingSafeEqual(Buffer.from(v1), Buffer.from(expected));
}

export async function startExecutor(secret = EXECUTOR_SECRET) {
  const deliveries: Delivery[] = [];
  let behaviour: Behaviour = (_d, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  };
  const server = createServer((req, res) => {
    const d: Delivery = {
      method: req.method ?? '',
      url: req.url ?? '',
      runId: String(req.headers['x-run-id']),
      taskId: String(req.headers['x-task-id']),
      accountId: String(req.headers['x-account-id']),
      scheduledFor: String(req.headers['x-scheduled-for']),
      attempt: Number(req.headers['x-attempt']),
      signatureValid: verify(req, secret),
      headers: req.headers,
    };
    deliveries.push(d);
    Promise.resolve(behaviour(d, res)).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/exec`,
    secret,
    deliveries,
    /** How the next deliveries are answered. */
    answer(b: Behaviour) {
      behaviour = b;
    },
    /** Answers every delivery with this status. */
    status(code: number, body = '') {
      behaviour = (_d, res) => {
        res.writeHead(code).end(body);
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Executor = Awaited<ReturnType<typeof startExecutor>>;
