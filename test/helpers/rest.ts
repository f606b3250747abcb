// Helpers for the REST doors' tests (src/rest/): the real curl binary against
// a listening app, and the task of document 001 as the database must hold it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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
