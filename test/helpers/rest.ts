// Helpers for the REST doors' tests (src/rest/): the real curl binary against
// a listening app, raw HTTP/1.1 over a socket (bytes no client library would
// send), and the task of document 001 as the database must hold it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { Harness } from './harness.js';
import { run } from './run.js';

export interface CurlAnswer {
  status: number;
  /** The final response's headers (curl -D), case-insensitive. */
  headers: Headers;
  /** The body exactly as received (curl -o). */
  body: string;
}

let seq = 0;

/**
 * Runs `curl -s -S -o <file> -D <file> -w '%{http_code}' <args> <url>` as a
 * child process (asynchronously) and reads what it wrote. curl failing (no
 * connection, a timeout) fails the test with its stderr.
 */
export async function curl(url: string, args: string[] = []): Promise<CurlAnswer> {
  const dir = await mkdtemp(path.join(tmpdir(), `rest-curl-${process.pid}-${++seq}-`));
  try {
    const bodyFile = path.join(dir, 'body');
    const headerFile = path.join(dir, 'headers');
    const ran = await run(
      'curl',
      ['-s', '-S', '--max-time', '20', '-o', bodyFile, '-D', headerFile, '-w', '%{http_code}', ...args, url],
      {},
    );
    expect(ran.code, `curl ${args.join(' ')} ${url}: ${ran.stderr}`).toBe(0);
    const body = await readFile(bodyFile, 'utf8').catch(() => '');
    const raw = await readFile(headerFile, 'utf8');
    // The last response's block (a 100 Continue comes first when curl asks for it).
    const blocks = raw.split(/\r\n\r\n/).filter((b) => b.startsWith('HTTP/'));
    const lines = blocks.at(-1)!.split('\r\n');
    const headers = new Headers();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const status = Number(ran.stdout);
    expect(Number(lines[0]!.split(' ')[1])).toBe(status);
    return { status, headers, body };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Document 001's example answer, keys in its order. */
export const DOCUMENT_TASK = {
  id: 5650820808835072,
  name: 'task screenshot',
  api: 'screenshot',
  query: 'url=https%3A%2F%2Fexample.com',
  frequency: 'every_month',
  crontab: '34 9 28 * *',
  timezone: 'Etc/UTC',
  enabled: true,
  created: 1714296566,
  last_run: 1745832566,
  runs: 12,
} as const;

/**
 * A task of `accountId` holding document 001's example values under `id`.
 * The times carry milliseconds: the answer must floor them to seconds.
 */
export async function documentTask(h: Harness, accountId: string, id = '5650820808835072'): Promise<string> {
  await h.task(accountId, { id });
  await h.db.transaction((tx) =>
    tx.task.update({
      where: { id },
      data: {
        name: DOCUMENT_TASK.name,
        api: 'SCREENSHOT',
        query: DOCUMENT_TASK.query,
        frequency: 'EVERY_MONTH',
        crontab: DOCUMENT_TASK.crontab,
        timezone: DOCUMENT_TASK.timezone,
        status: 'ACTIVE',
        createdAt: new Date(DOCUMENT_TASK.created * 1000 + 789),
        lastRunAt: new Date(DOCUMENT_TASK.last_run * 1000 + 999),
        runs: DOCUMENT_TASK.runs,
      },
    }),
  );
  return id;
}

/** Parses a JSON body, failing the test with the text when it is not JSON. */
export function parsed(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`not JSON: ${JSON.stringify(body.slice(0, 300))}`);
  }
}

/** A task row as stored, for "untouched" checks. */
export function taskRow(h: Harness, id: string) {
  return h.db.read.task.findUnique({ where: { id } });
}

export interface RawAnswer {
  /** The status line, e.g. `HTTP/1.1 400 Bad Request`. */
  statusLine: string;
  status: number;
  /** Header names lower-case; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The body (de-chunked), UTF-8. */
  body: string;
}

/**
 * Writes `head` (and then `body`, if given) to a fresh TCP connection to
 * `origin` exactly as given, and resolves with the first complete response:
 * by its Content-Length, its chunked encoding, or the connection's end. It
 * does not wait for the server to read what it was sent: a request that
 * declares a body and never sends it is answered (or times out) as is.
 */
export function rawHttp(
  origin: string,
  head: string,
  { body, timeoutMs = 10_000 }: RawOptions = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(origin);
  return new Promise<RawAnswer>((resolve, reject) => {
    let received = Buffer.alloc(0);
    let done = false;
    const socket = connect(Number(port), hostname, () => {
      socket.write(head, 'latin1');
      if (body !== undefined) socket.write(body);
    });
    const finish = (answer: RawAnswer | Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (answer instanceof Error) reject(answer);
      else resolve(answer);
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(`no complete response in ${timeoutMs} ms; got ${JSON.stringify(received.toString('latin1'))}`),
        ),
      timeoutMs,
    );
    const attempt = (ended: boolean) => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) {
        if (ended) finish(new Error(`connection ended mid-headers: ${JSON.stringify(received.toString('latin1'))}`));
        return;
      }
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
      }
      const rest = received.subarray(end + 4);
      const answer = (bytes: Buffer): RawAnswer => ({
        statusLine: statusLine!,
        status: Number(statusLine!.split(' ')[1]),
        headers,
        body: bytes.toString('utf8'),
      });
      if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
        const chunks: Buffer[] = [];
        let at = 0;
        for (;;) {
          const lineEnd = rest.indexOf('\r\n', at);
          if (lineEnd < 0) break;
          const size = Number.parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16);
          if (rest.length < lineEnd + 2 + size + 2) break;
          if (size === 0) return finish(answer(Buffer.concat(chunks)));
          chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
          at = lineEnd + 2 + size + 2;
        }
        if (ended) finish(new Error(`connection ended mid-body: ${JSON.stringify(received.toString('latin1'))}`));
      } else if (headers['content-length'] !== undefined) {
        const length = Number(headers['content-length']);
        if (rest.length >= length) finish(answer(rest.subarray(0, length)));
        else if (ended) finish(new Error(`connection ended mid-body: ${JSON.stringify(received.toString('latin1'))}`));
      } else if (ended) finish(answer(rest));
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      attempt(false);
    });
    socket.on('end', () => attempt(true));
    socket.on('close', () => attempt(true));
    socket.on('error', (err) => finish(err));
  });
}

export interface RawOptions {
  /** Bytes written after `head`. */
  body?: string | Buffer;
  timeoutMs?: number;
}
