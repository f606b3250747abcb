// The image service's own client code (its document, seed 004: PHP with curl,
// Python with requests, JavaScript with axios, the curl command) run as real
// programs against the app on a real socket, changed in nothing but the URL
// and the token (test/clients/rest/). Each sends task_uid its own way: a
// multipart form (PHP, curl), a urlencoded form (Python), JSON (axios).
// The programs' paths come from vitest.config.ts, which checked them (PHP with
// its curl extension, Python with requests): without them this suite does not
// run, loudly, and in CI (REQUIRE_SERVICES=1) the run fails.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './helpers/harness.js';
import { type Listening, listen } from './helpers/socket.js';

const DOCUMENT_URL = 'https://pixflow.ru/api/v1/task/delete';
const DOCUMENT_TOKEN = 'jgcJkV7fSV2KzHyzmdIV4pS5VHshgbsOsRg26wQRd5AxRGIpJF';
const CLIENTS_DIR = fileURLToPath(new URL('./clients/rest/', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../node_modules', import.meta.url));

/** A program's path as vitest.config.ts checked it. */
function programPath(variable: string): string {
  const path = process.env[variable];
  if (!path) throw new Error(`${variable} is not set: run this suite through vitest.config.ts, which checks it.`);
  return path;
}

/** The answers the door gives, in the document's words (the in-progress one is the door's own). */
const NOT_FOUND = 'Задача не найдена';
const IN_PROGRESS = 'Задачу со статусом "В процессе" удалить нельзя';
const BAD_TOKEN = 'Неверный токен авторизации';
const DELETED = 'Задача успешно удалена';

/** What the door answered: success, a 200 with a reason, or an HTTP error with its message. */
type Answer = { deleted: true } | { error: string } | { status: number; error: string };

interface Printed {
  stdout: string;
  stderr: string;
}

interface Client {
  name: string;
  file: string;
  /** The task id written into the snippet. */
  taskId: string;
  /** The media type its library gives the body. */
  sends: string;
  command(script: string): [string, string[]];
  /** Asserts what the snippet printed for the door's answer. */
  expectPrinted(printed: Printed, answer: Answer): void;
}

/** PHP and Python print everything on stdout; PHP's `exit('…')` adds no newline. */
const onStdout =
  (httpErrorEnd: string) =>
  (printed: Printed, answer: Answer): void => {
    const stdout =
      'deleted' in answer
        ? `${DELETED}\n`
        : 'status' in answer
          ? `[${answer.status}] Ошибка запроса${httpErrorEnd}`
          : `${answer.error}\n`;
    expect(printed).toEqual({ stdout, stderr: '' });
  };

const CLIENTS: Client[] = [
  {
    name: 'PHP (curl extension, multipart form)',
    file: 'image-delete.php',
    sends: 'multipart/form-data',
    taskId: 'gsvyz98boa',
    command: (script) => [programPath('PHP_PATH'), [script]],
    expectPrinted: onStdout(''),
  },
  {
    name: 'Python (requests, urlencoded form)',
    file: 'image-delete.py',
    sends: 'application/x-www-form-urlencoded',
    taskId: 'gsvyz98boa',
    command: (script) => [programPath('PYTHON_PATH'), [script]],
    expectPrinted: onStdout('\n'),
  },
  {
    name: 'JavaScript (axios, JSON)',
    file: 'image-delete.cjs',
    sends: 'application/json',
    taskId: 'gsvyz98boa',
    command: (script) => [process.execPath, [script]],
    expectPrinted(printed, answer) {
      if ('deleted' in answer) expect(printed).toEqual({ stdout: `${DELETED}\n`, stderr: '' });
      else if ('status' in answer)
        expect(printed).toEqual({ stdout: '', stderr: `[${answer.status}] Ошибка запроса\n` });
      else expect(printed).toEqual({ stdout: '', stderr: `Ошибка:\n - ${answer.error}\n` });
    },
  },
  {
    name: 'curl (-F, multipart form)',
    file: 'image-delete.sh',
    sends: 'multipart/form-data',
    taskId: 'xvsqm734ix',
    command: (script) => ['/bin/bash', [script]],
    // curl prints the body as it came (its progress meter goes to stderr: not asserted).
    expectPrinted({ stdout }, answer) {
      const body = JSON.parse(stdout) as Record<string, unknown>;
      if ('deleted' in answer) {
        expect(Object.keys(body)).toEqual(['type']);
        expect(body.type).toBe('success');
      } else {
        expect(Object.keys(body)).toEqual(['type', 'errors']);
        expect(body.type).toBe('error');
        expect(body.errors).toEqual([answer.error]);
      }
    },
  },
];

/** `text` with `from` replaced by `to`, after asserting `from` occurs exactly once. */
function replaceOnce(text: string, from: string, to: string): string {
  expect(text.split(from).length - 1, `occurrences of ${from}`).toBe(1);
  return text.replace(from, () => to);
}

interface Seen {
  method: string | undefined;
  url: string | undefined;
  type: string | undefined;
}

let h: Harness;
let server: Listening;
let scratch: string;
/** The requests the app received (method, URL, media type), to tell what each client sent. */
let seen: Seen[] = [];

beforeAll(async () => {
  h = await createHarness();
  server = await listen((req, res) => {
    seen.push({ method: req.method, url: req.url, type: req.headers['content-type']?.split(';')[0] });
    h.app(req, res);
  });
  scratch = await mkdtemp(join(tmpdir(), 'rest-image-clients-'));
});

afterAll(async () => {
  await server?.close();
  await h?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/**
 * Runs the client's snippet with only the URL and the token changed, as a
 * child process, in an environment of its own: no proxy settings, no
 * ~/.curlrc or ~/.netrc (HOME is the scratch folder), UTF-8 output.
 */
async function runClient(
  client: Client,
  token: string,
): Promise<{ code: number | null; printed: Printed; requests: Seen[] }> {
  const original = await readFile(join(CLIENTS_DIR, client.file), 'utf8');
  const withUrl = replaceOnce(original, DOCUMENT_URL, `${server.origin}/api/v1/task/delete`);
  const script = join(scratch, client.file);
  await writeFile(script, replaceOnce(withUrl, DOCUMENT_TOKEN, token));
  const [command, args] = client.command(script);
  seen = [];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: scratch,
      env: {
        PATH: `${dirname(programPath('CURL_PATH'))}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        HOME: scratch,
        LANG: 'C.UTF-8',
        NODE_PATH: NODE_MODULES,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal) reject(new Error(`${client.file} ended by ${signal}; stdout: ${stdout}; stderr: ${stderr}`));
      else resolve({ code, printed: { stdout, stderr }, requests: seen });
    });
  });
}

async function taskExists(id: string): Promise<boolean> {
  return (await h.db.read.task.findUnique({ where: { id } })) !== null;
}

describe.each(CLIENTS)('the image service’s $name client, run against the door', (client) => {
  const id = client.taskId;
  /** Every run: one POST to the door, the body in the client's own encoding. */
  const oneRequest: Seen[] = [{ method: 'POST', url: '/api/v1/task/delete', type: client.sends }];

  afterEach(async () => {
    // The snippet's id is a literal: each test seeds it afresh.
    await h.db.transaction((tx) => tx.task.deleteMany({ where: { id } }));
  });

  it(`deletes the task (${id}), says so, and consumes one quota unit`, async () => {
    const account = await h.account();
    await h.task(account.id, { id });
    const ran = await runClient(client, account.key);
    expect(ran.code).toBe(0);
    expect(ran.requests).toEqual(oneRequest);
    client.expectPrinted(ran.printed, { deleted: true });
    expect(await taskExists(id)).toBe(false);
    expect(await h.quotaUsed(account.id)).toBe(1);
  });

  it('says the task was not found when there is none, consuming no quota', async () => {
    const account = await h.account();
    const ran = await runClient(client, account.key);
    expect(ran.code).toBe(0);
    expect(ran.requests).toEqual(oneRequest);
    client.expectPrinted(ran.printed, { error: NOT_FOUND });
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('refuses a task in progress with the door’s message; the task stays', async () => {
    const account = await h.account();
    await h.task(account.id, { id, inProgress: true });
    const ran = await runClient(client, account.key);
    expect(ran.code).toBe(0);
    expect(ran.requests).toEqual(oneRequest);
    client.expectPrinted(ran.printed, { error: IN_PROGRESS });
    expect(await taskExists(id)).toBe(true);
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('answers another account’s task as one that does not exist; the task stays', async () => {
    const [account, other] = [await h.account(), await h.account({ name: 'other' })];
    await h.task(other.id, { id });
    const ran = await runClient(client, account.key);
    expect(ran.code).toBe(0);
    expect(ran.requests).toEqual(oneRequest);
    client.expectPrinted(ran.printed, { error: NOT_FOUND });
    expect(await taskExists(id)).toBe(true);
    expect([await h.quotaUsed(account.id), await h.quotaUsed(other.id)]).toEqual([0, 0]);
  });

  it('reports a bad token as the HTTP error 401; the task stays', async () => {
    const account = await h.account();
    await h.task(account.id, { id });
    const ran = await runClient(client, 'not-a-key-of-this-service');
    expect(ran.code).toBe(0);
    expect(ran.requests).toEqual(oneRequest);
    client.expectPrinted(ran.printed, { status: 401, error: BAD_TOKEN });
    expect(await taskExists(id)).toBe(true);
    expect(await h.quotaUsed(account.id)).toBe(0);
  });
});
