// The REST doors' error matrix (src/rest/, the contract of issue 13), door by
// door, through `app.fetch`: every refusal in the door's own shape, the checks
// in the services' order and against the same limiter and quota as GraphQL,
// another account's task indistinguishable from a missing one, and unexpected
// failures masked and logged once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { MAX_REST_BODY_BYTES, SMALL_BODY_BYTES } from '../src/rest/body.js';
import { createHarness, type Harness } from './helpers/harness.js';
import { rawHttp, taskRow } from './helpers/rest.js';
import { type Listening, listen } from './helpers/socket.js';

const B = 'http://localhost';
const JSON_TYPE = 'application/json; charset=utf-8';

let h: Harness;
/** accountMax 4, scheduleMax 2: the 429s. */
let limited: Harness;

beforeAll(async () => {
  [h, limited] = await Promise.all([createHarness(), createHarness({ limits: { accountMax: 4, scheduleMax: 2 } })]);
});

afterAll(async () => {
  await Promise.all([h?.close(), limited?.close()]);
});

/** What `app.fetch` returns. */
type Reply = Response | Promise<Response>;

interface Answer {
  status: number;
  type: string | null;
  text: string;
  headers: Headers;
  body: unknown;
}

async function answer(res: Reply): Promise<Answer> {
  const r = await res;
  const text = await r.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = `not JSON: ${text.slice(0, 200)}`;
  }
  return { status: r.status, type: r.headers.get('content-type'), text, headers: r.headers, body };
}

/** An error in the door's shape: status, JSON content type, the whole body (and so its key order). */
/** The bytes a door writes for `body`: JSON, with invisible characters as \u escapes (src/rest/door.ts `json`). */
const wire = (body: unknown) =>
  JSON.stringify(body).replace(
    /[\p{Cf}\u2028\u2029]/gu,
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );

function expectError(a: Answer, status: number, body: unknown) {
  expect({ status: a.status, type: a.type, body: a.body }).toEqual({ status, type: JSON_TYPE, body });
  expect(a.text).toBe(wire(body));
}

// ---- The four doors' requests -------------------------------------------------

const shotGet = (app: App, key: string | undefined, id: string, headers: Record<string, string> = {}) =>
  app.fetch(`${B}/v1/tasks/${encodeURIComponent(id)}`, {
    headers: { ...(key ? { 'x-access-key': key } : {}), ...headers },
  });

const shotDelete = (app: App, key: string | undefined, id: string, init: RequestInit = {}) =>
  app.fetch(`${B}/v1/tasks/${encodeURIComponent(id)}`, {
    method: 'DELETE',
    ...init,
    headers: { ...(key ? { 'x-access-key': key } : {}), ...(init.headers as Record<string, string>) },
  });

const cancel = (app: App, key: string, id: string, body: BodyInit | null = '{}') =>
  app.fetch(`${B}/schedule/${encodeURIComponent(key)}/${encodeURIComponent(id)}/cancel`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

const batchDelete = (
  app: App,
  key: string | undefined,
  body: BodyInit | null,
  { project = 'proj-0605767e', headers = {} as Record<string, string> } = {},
) =>
  app.fetch(`${B}/v2/${project}/scheduled-tasks/batch-delete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'x-auth-token': key } : {}), ...headers },
    body,
  });

const batchOf = (app: App, key: string | undefined, ids: string[]) =>
  batchDelete(app, key, JSON.stringify({ task_ids: ids }));

const imageDelete = (app: App, key: string | undefined, body: BodyInit | null, headers: Record<string, string> = {}) =>
  app.fetch(`${B}/api/v1/task/delete`, {
    method: 'POST',
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body,
  });

function form(fields: Record<string, string>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  return f;
}

const imageOf = (app: App, key: string | undefined, uid: string) => imageDelete(app, key, form({ task_uid: uid }));

// ---- The doors' error bodies --------------------------------------------------

const SHOT = {
  400: ['Bad Request', 'The request was rejected due to a missing or invalid parameter.'],
  401: ['Unauthorized', 'The request was rejected due to an invalid access key.'],
  402: ['Payment Required', 'Access denied due to an unpaid invoice.'],
  404: ['Not Found', 'The requested resource was not found.'],
  405: ['Method Not Allowed', 'The path does not accept this method.'],
  409: ['Conflict', 'The task is running now and cannot be deleted; retry when the run ends.'],
  413: ['Payload Too Large', 'The request body is too large.'],
  423: ['Locked', 'The request was denied due to insufficient quota.'],
  429: ['Too Many Requests', 'The rate limit has been exceeded (too many requests per minute).'],
  500: ['Internal server error', 'The request failed due to an internal server error.'],
} as const;
const shot = (code: keyof typeof SHOT, message: string, details: string = SHOT[code][1]) => ({
  code,
  type: SHOT[code][0],
  details,
  message,
});
const PLAN_DETAILS = 'Scheduled Tasks are available only on the Scale plan.';

const conn = (errorCode: number, errorMessage: string, details?: string) =>
  details === undefined
    ? { success: false, errorCode, errorMessage }
    : { success: false, errorCode, errorMessage, details };
const INVALID_STATUS = {
  errorMessage: 'The status of the schedule is not valid for the requested operation',
  errorCode: 7070,
};
const nonExisting = (scheduleId: string, status = 'NON-EXISTING') => ({
  success: false,
  scheduleId,
  oldStatus: status,
  newStatus: status,
  ...INVALID_STATUS,
});

const wks = (error_code: string, error_msg: string, error_detail: string) => ({ error_code, error_msg, error_detail });
const WKS_NOT_FOUND = { error_code: 'WKS.0404', error_msg: 'The scheduled task does not exist.' };
const WKS_RUNNING = { error_code: 'WKS.0409', error_msg: 'The scheduled task is running and cannot be deleted.' };
interface WksFailure {
  task_id: string;
  error_code: string;
  error_msg: string;
}
/**
 * An id as error_detail quotes it, for plain ids only (printable ASCII, at
 * most 32 characters: JSON quotes and nothing else). Others are spelt out
 * where they are tested.
 */
function quotedId(id: string): string {
  if (!/^[\x20-\x7e]{0,32}$/.test(id)) throw new Error(`spell out how ${JSON.stringify(id)} is quoted`);
  return JSON.stringify(id);
}
/** The batch's failure: error_detail names the first 20 (quoted), failed_tasks has them all, ids exact. */
const wksFailed = (total: number, failed: WksFailure[], detail?: string) => ({
  error_code: 'WKS.0400',
  error_msg: `Nothing was deleted: ${failed.length} of ${total} tasks could not be deleted.`,
  error_detail:
    detail ??
    [
      ...failed.slice(0, 20).map((f) => `${quotedId(f.task_id)}: ${f.error_code} ${f.error_msg}`),
      ...(failed.length > 20 ? [`and ${failed.length - 20} more (see failed_tasks)`] : []),
    ].join('; '),
  failed_tasks: failed,
});

const img = (...errors: string[]) => ({ type: 'error', errors });
const IMG_NOT_FOUND = 'Задача не найдена';
const IMG_IN_PROGRESS = 'Задачу со статусом "В процессе" удалить нельзя';

const NO_KEY_MESSAGE = 'A valid API key is required (X-Access-Key header, Authorization: Bearer, or access_key).';
const UNKNOWN_KEY = 'Unknown or revoked API key.';
const UNPAID_MESSAGE = 'The account has an unpaid invoice; pay it to continue.';
const PLAN_MESSAGE = 'Scheduled tasks require the SCALE plan; upgrade to continue.';
/** Each door's body limit and its 413 message: one field's doors 16 KiB, the workspace's batch 128 KiB. */
const SMALL_TOO_LARGE = 'The request body is larger than 16 KiB.';
const BATCH_TOO_LARGE = 'The request body is larger than 128 KiB.';

/** A key-shaped value no account holds (tsk_ + 43 characters, like real keys). */
const WRONG_KEY = `tsk_${'W'.repeat(43)}`;

// ---- The operation of each door that changes a task, for the shared cases -----

interface Door {
  name: string;
  /** The door's call that deletes or cancels `id`. */
  write(app: App, key: string, id: string): Reply;
  /** The status of a success, and what it did to the task. */
  ok: number;
  changed: 'deleted' | 'cancelled';
  unpaid: Expected;
  plan: Expected;
  quota: Expected;
  /** The answer to a missing id (and to another account's). */
  missing(id: string): Expected;
  rateLimited(message: string): Expected;
  masked: Expected;
  /** The door's name in the log line of an unexpected error. */
  logName: string;
}

interface Expected {
  status: number;
  body: unknown;
}

const QUOTA_MESSAGE = 'Quota exceeded: 1 of 1 units used.';

const DOORS: Door[] = [
  {
    name: 'screenshot DELETE /v1/tasks/:id',
    write: (app, key, id) => shotDelete(app, key, id),
    ok: 204,
    changed: 'deleted',
    unpaid: { status: 402, body: shot(402, UNPAID_MESSAGE) },
    plan: { status: 402, body: shot(402, PLAN_MESSAGE, PLAN_DETAILS) },
    quota: { status: 423, body: shot(423, QUOTA_MESSAGE) },
    missing: (id) => ({ status: 404, body: shot(404, `Task "${id}" was not found.`) }),
    rateLimited: (m) => ({ status: 429, body: shot(429, m) }),
    masked: { status: 500, body: shot(500, 'Unexpected error.') },
    logName: 'screenshot-tasks-v1',
  },
  {
    name: 'connector POST /schedule/:apiKey/:scheduleId/cancel',
    write: (app, key, id) => cancel(app, key, id),
    ok: 200,
    changed: 'cancelled',
    unpaid: { status: 402, body: conn(1002, 'Payment required', 'UNPAID_INVOICE') },
    plan: { status: 402, body: conn(1002, 'Payment required', 'PLAN_UPGRADE_REQUIRED') },
    quota: { status: 423, body: conn(1003, 'Quota exceeded', QUOTA_MESSAGE) },
    missing: (id) => ({ status: 200, body: nonExisting(id) }),
    // The document's (and the contract's, and the README's) 429 body exactly: no `details`.
    rateLimited: () => ({ status: 429, body: conn(1009, 'Too many requests') }),
    masked: { status: 500, body: conn(9000, 'Unexpected error.') },
    logName: 'connector-schedules',
  },
  {
    name: 'workspace POST /v2/:project_id/scheduled-tasks/batch-delete',
    write: (app, key, id) => batchOf(app, key, [id]),
    ok: 200,
    changed: 'deleted',
    unpaid: { status: 402, body: wks('WKS.0402', 'Payment required.', 'UNPAID_INVOICE') },
    plan: { status: 402, body: wks('WKS.0402', 'Payment required.', 'PLAN_UPGRADE_REQUIRED') },
    quota: { status: 423, body: wks('WKS.0423', 'Insufficient quota.', QUOTA_MESSAGE) },
    missing: (id) => ({ status: 400, body: wksFailed(1, [{ task_id: id, ...WKS_NOT_FOUND }]) }),
    rateLimited: (m) => ({ status: 429, body: wks('APIGW.0308', 'The throttling threshold has been reached.', m) }),
    masked: { status: 500, body: wks('WKS.0500', 'Unexpected error.', '') },
    logName: 'workspace-batch-delete',
  },
  {
    name: 'image POST /api/v1/task/delete',
    write: (app, key, id) => imageOf(app, key, id),
    ok: 200,
    changed: 'deleted',
    unpaid: { status: 402, body: img('Доступ запрещён: неоплаченный счёт') },
    plan: { status: 402, body: img('Отложенные задачи доступны только на тарифе Scale') },
    quota: { status: 423, body: img('Недостаточно квоты') },
    missing: () => ({ status: 200, body: img(IMG_NOT_FOUND) }),
    rateLimited: () => ({ status: 429, body: img('Слишком много запросов, повторите через 60 с') }),
    masked: { status: 500, body: img('Внутренняя ошибка сервера') },
    logName: 'image-tasks',
  },
];

/** The task is as it was: not deleted, not cancelled, nothing else changed. */
async function expectUntouched(harness: Harness, id: string, before: unknown) {
  expect(await taskRow(harness, id)).toEqual(before);
}

// ---- Shared cases, each door ------------------------------------------------

describe.each(DOORS)('$name', (door) => {
  it('succeeds for the owner (the baseline of the refusals below)', async () => {
    const account = await h.account();
    const id = await h.task(account.id);
    const a = await answer(door.write(h.app, account.key, id));
    expect(a.status).toBe(door.ok);
    const row = await taskRow(h, id);
    if (door.changed === 'deleted') expect(row).toBeNull();
    else expect(row?.status).toBe('CANCELLED');
    expect(await h.quotaUsed(account.id)).toBe(1);
  });

  it('401 for a wrong key, in the door’s shape; the task untouched', async () => {
    const account = await h.account();
    const id = await h.task(account.id);
    const before = await taskRow(h, id);
    const a = await answer(door.write(h.app, WRONG_KEY, id));
    expect(a.status).toBe(401);
    expect(a.type).toBe(JSON_TYPE);
    expect(a.text).not.toContain(WRONG_KEY);
    await expectUntouched(h, id, before);
  });

  it.each([
    ['UNPAID billing', { billing: 'UNPAID' as const }, 'unpaid' as const],
    ['a GROWTH plan', { plan: 'GROWTH' as const }, 'plan' as const],
    [
      'UNPAID billing on a FREE plan (billing is checked first)',
      { billing: 'UNPAID' as const, plan: 'FREE' as const },
      'unpaid' as const,
    ],
  ])('402 for %s; nothing changed, no quota', async (_, seed, which) => {
    const account = await h.account(seed);
    const id = await h.task(account.id);
    const before = await taskRow(h, id);
    const a = await answer(door.write(h.app, account.key, id));
    expectError(a, door[which].status, door[which].body);
    await expectUntouched(h, id, before);
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('423 when the quota is exhausted; the task untouched', async () => {
    const account = await h.account({ quotaLimit: 1, quotaUsed: 1 });
    const id = await h.task(account.id);
    const before = await taskRow(h, id);
    const a = await answer(door.write(h.app, account.key, id));
    expectError(a, door.quota.status, door.quota.body);
    await expectUntouched(h, id, before);
    expect(await h.quotaUsed(account.id)).toBe(1);
  });

  it('a missing id: the door’s not-found answer, no quota', async () => {
    const account = await h.account();
    const a = await answer(door.write(h.app, account.key, 'no-such-task'));
    const missing = door.missing('no-such-task');
    expectError(a, missing.status, missing.body);
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('isolation: another account’s task answers byte for byte as an id that does not exist, and stays untouched', async () => {
    const owner = await h.account();
    const stranger = await h.account();
    const id = `iso-${door.logName}`;
    const missing = await answer(door.write(h.app, stranger.key, id));
    await h.task(owner.id, { id });
    const before = await taskRow(h, id);
    const foreign = await answer(door.write(h.app, stranger.key, id));
    expect({ status: foreign.status, type: foreign.type, text: foreign.text }).toEqual({
      status: missing.status,
      type: missing.type,
      text: missing.text,
    });
    const expected = door.missing(id);
    expectError(foreign, expected.status, expected.body);
    await expectUntouched(h, id, before);
    expect(await h.quotaUsed(owner.id)).toBe(0);
    expect(await h.quotaUsed(stranger.id)).toBe(0);
  });

  it('429 past the account’s limit: Retry-After, RateLimit-* and the door’s body; the task untouched', async () => {
    const account = await limited.account();
    const id = await limited.task(account.id);
    const before = await taskRow(limited, id);
    for (let i = 0; i < 4; i++) {
      const a = await answer(door.write(limited.app, account.key, `other-${i}`));
      expect(a.status, a.text).not.toBe(429);
    }
    const a = await answer(door.write(limited.app, account.key, id));
    const expected = door.rateLimited('Rate limit of 4 operations per account per 60s exceeded; retry in 60s.');
    expectError(a, expected.status, expected.body);
    expect(a.headers.get('retry-after')).toBe('60');
    expect({
      limit: a.headers.get('ratelimit-limit'),
      remaining: a.headers.get('ratelimit-remaining'),
      policy: a.headers.get('ratelimit-policy'),
      reset: a.headers.get('ratelimit-reset'),
    }).toEqual({ limit: '4', remaining: '0', policy: '4;w=60', reset: '60' });
    await expectUntouched(limited, id, before);
    expect(await limited.quotaUsed(account.id)).toBe(0);
  });

  it('a request with a key carries RateLimit-Limit/-Remaining/-Reset/-Policy, counted with GraphQL’s', async () => {
    const account = await h.account();
    const id = await h.task(account.id);
    const gql = await h.app.fetch(`${B}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-access-key': account.key },
      body: JSON.stringify({ query: 'query($id: ID!) { task(id: $id) { __typename } }', variables: { id } }),
    });
    expect(gql.headers.get('ratelimit-remaining')).toBe('59');
    const a = await answer(door.write(h.app, account.key, id));
    expect(a.status).toBeLessThan(300);
    expect({
      limit: a.headers.get('ratelimit-limit'),
      remaining: a.headers.get('ratelimit-remaining'),
      policy: a.headers.get('ratelimit-policy'),
      reset: a.headers.get('ratelimit-reset'),
    }).toEqual({ limit: '60', remaining: '58', policy: '60;w=60', reset: '60' });
    expect(a.headers.get('retry-after')).toBeNull();
  });

  it('reads a body of exactly the door’s limit; one byte more is 413 in its shape, declared or streamed', async () => {
    const account = await h.account();
    const limit = BODY_LIMIT[door.logName]!;
    for (const sent of ['with a Content-Length', 'streamed'] as const) {
      const as = (text: string): BodyInit => (sent === 'streamed' ? streamOf(text) : text);
      const id = await h.task(account.id);
      const exact = await answer(bigRequest(door, account.key, id, as(paddedBody(door, account.key, id, limit))));
      expect(exact.status, `${sent}: ${exact.text}`).toBe(door.ok);
      const row = await taskRow(h, id);
      if (door.changed === 'deleted') expect(row, sent).toBeNull();
      else expect(row?.status, sent).toBe('CANCELLED');
      const kept = await h.task(account.id);
      const before = await taskRow(h, kept);
      const over = await answer(
        bigRequest(door, account.key, kept, as(paddedBody(door, account.key, kept, limit + 1))),
      );
      expectError(over, 413, TOO_LARGE_BODY[door.logName]);
      await expectUntouched(h, kept, before);
    }
    // The two bodies of exactly the limit did their work; the two over it nothing.
    expect(await h.quotaUsed(account.id)).toBe(2);
  });
});

function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at + 16 * 1024));
      at += 16 * 1024;
    },
  });
}

const TOO_LARGE_BODY: Record<string, unknown> = {
  'screenshot-tasks-v1': shot(413, SMALL_TOO_LARGE),
  'connector-schedules': conn(1000, 'Request body too large', SMALL_TOO_LARGE),
  'workspace-batch-delete': wks('WKS.0413', 'Request body too large.', BATCH_TOO_LARGE),
  'image-tasks': img('Слишком большой запрос'),
};

/** The bodies each door reads: a key or a task id is 16 KiB at most; the batch of 1,000 ids 128 KiB. */
const SMALL_LIMIT = 16 * 1024;
const BATCH_LIMIT = 128 * 1024;
const BODY_LIMIT: Record<string, number> = {
  'screenshot-tasks-v1': SMALL_LIMIT,
  'connector-schedules': SMALL_LIMIT,
  'workspace-batch-delete': BATCH_LIMIT,
  'image-tasks': SMALL_LIMIT,
};

/**
 * A body of exactly `bytes` bytes that does the door's write of `id` (the
 * screenshot door's key in it, as bigRequest sends no key header there),
 * padded with a field the door ignores.
 */
function paddedBody(door: Door, key: string, id: string, bytes: number): string {
  const fields: Record<string, unknown> = {
    'screenshot-tasks-v1': { access_key: key },
    'connector-schedules': {},
    'workspace-batch-delete': { task_ids: [id] },
    'image-tasks': { task_uid: id },
  }[door.logName]!;
  const pad = bytes - JSON.stringify({ ...fields, pad: '' }).length;
  const body = JSON.stringify({ ...fields, pad: 'x'.repeat(pad) });
  expect(Buffer.byteLength(body)).toBe(bytes);
  return body;
}

/** The door's write with a body of our choosing (the screenshot door reads its body only for a key: none elsewhere). */
function bigRequest(door: Door, key: string, id: string, body: BodyInit): Reply {
  const init = { method: 'POST', body, duplex: 'half' } as RequestInit;
  switch (door.logName) {
    case 'screenshot-tasks-v1':
      return h.app.fetch(`${B}/v1/tasks/${id}`, {
        ...init,
        method: 'DELETE',
        headers: { 'content-type': 'application/json' },
      });
    case 'connector-schedules':
      return h.app.fetch(`${B}/schedule/${key}/${id}/cancel`, {
        ...init,
        headers: { 'content-type': 'application/json' },
      });
    case 'workspace-batch-delete':
      return h.app.fetch(`${B}/v2/p/scheduled-tasks/batch-delete`, {
        ...init,
        headers: { 'content-type': 'application/json', 'x-auth-token': key },
      });
    default:
      return h.app.fetch(`${B}/api/v1/task/delete`, {
        ...init,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      });
  }
}

// ---- Door-specific cases -----------------------------------------------------

describe('screenshot Task API v1 (documents 000, 001)', () => {
  it('401: no key, a wrong key, an over-long key (never echoed), by every way of sending one', async () => {
    const account = await h.account();
    const id = await h.task(account.id);
    expectError(await answer(shotGet(h.app, undefined, id)), 401, shot(401, NO_KEY_MESSAGE));
    expectError(await answer(shotGet(h.app, WRONG_KEY, id)), 401, shot(401, UNKNOWN_KEY));
    expectError(await answer(h.app.fetch(`${B}/v1/tasks?access_key=${WRONG_KEY}`)), 401, shot(401, UNKNOWN_KEY));
    expectError(
      await answer(h.app.fetch(`${B}/v1/tasks`, { headers: { authorization: `Bearer ${WRONG_KEY}` } })),
      401,
      shot(401, UNKNOWN_KEY),
    );
    expectError(
      await answer(shotDelete(h.app, undefined, id, { body: JSON.stringify({ access_key: WRONG_KEY }) })),
      401,
      shot(401, UNKNOWN_KEY),
    );
    expectError(await answer(shotDelete(h.app, undefined, id)), 401, shot(401, NO_KEY_MESSAGE));
    const long = `tsk_${'L'.repeat(5000)}`;
    const a = await answer(shotGet(h.app, long, id));
    expectError(a, 401, shot(401, UNKNOWN_KEY));
    expect(await taskRow(h, id)).not.toBeNull();
    // Authorization: Bearer is accepted too.
    const ok = await answer(
      h.app.fetch(`${B}/v1/tasks/${id}`, { headers: { authorization: `Bearer ${account.key}` } }),
    );
    expect(ok.status).toBe(200);
  });

  it.each([
    // The page-size rule is listTasks' (0–MAX_LIST_SIZE for this door), worded with this API's `limit`.
    ['limit=1001', '?limit=1001', 'limit must be an integer from 0 to 1000.'],
    ['limit=99999999', '?limit=99999999', 'limit must be an integer from 0 to 1000.'],
    ['limit=abc', '?limit=abc', 'limit must be an integer from 0 to 1000.'],
    ['limit=1.5', '?limit=1.5', 'limit must be an integer from 0 to 1000.'],
    ['limit=-1', '?limit=-1', 'limit must be an integer from 0 to 1000.'],
    [
      'a cursor that is not ours',
      '?after=garbage',
      'Invalid cursor: pass an endCursor or cursor from a previous page.',
    ],
    ['an over-long cursor', `?after=${'A'.repeat(10_000)}`, 'after must be at most 320 characters (got 10000).'],
  ])('400 for GET /v1/tasks with %s', async (_, query, message) => {
    const account = await h.account();
    const a = await answer(h.app.fetch(`${B}/v1/tasks${query}`, { headers: { 'x-access-key': account.key } }));
    expectError(a, 400, shot(400, message));
    expect(a.text.length).toBeLessThan(400);
  });

  it('GET /v1/tasks without limit answers every task up to 1,000 in one array (its document has no pages); limit=0 is []', async () => {
    const account = await h.account();
    await h.tasks(
      account.id,
      Array.from({ length: 150 }, () => ({})),
    );
    const all = await answer(h.app.fetch(`${B}/v1/tasks`, { headers: { 'x-access-key': account.key } }));
    expect(all.status).toBe(200);
    expect(all.body as unknown[]).toHaveLength(150);
    expect(all.headers.get('link')).toBeNull();
    const none = await answer(h.app.fetch(`${B}/v1/tasks?limit=0`, { headers: { 'x-access-key': account.key } }));
    expect({ status: none.status, body: none.body, link: none.headers.get('link') }).toEqual({
      status: 200,
      body: [],
      link: null,
    });
  });

  // Cursors this API never issues, but a client can send: base64url of [ms, id]
  // with a time outside what the databases store (years 1–9999). The answer
  // must be a 400 or the right page (everything for a cursor after every task,
  // nothing for one before them all), never a 500, and the same on every database.
  it.each([
    ['the earliest Date', -8.64e15, 'none'],
    ['1 ms before year 1', -62135596800001, 'none'],
    ['year 1 exactly', -62135596800000, 'none'],
    ['the last ms of year 9999', 253402300799999, 'all'],
    ['year 10000', 253402300800000, 'all'],
    ['the latest Date', 8.64e15, 'all'],
  ] as const)('GET /v1/tasks with a cursor at %s: a 400 or the right page, never a 5xx', async (_, ms, page) => {
    const account = await h.account();
    const id = await h.task(account.id);
    const before = h.logLines.length;
    const after = Buffer.from(JSON.stringify([ms, 'x'])).toString('base64url');
    const a = await answer(h.app.fetch(`${B}/v1/tasks?after=${after}`, { headers: { 'x-access-key': account.key } }));
    const refused = {
      status: 400,
      body: shot(400, 'Invalid cursor: pass an endCursor or cursor from a previous page.'),
    };
    const listed = { status: 200, body: page === 'all' ? [expect.objectContaining({ id })] : [] };
    expect([refused, listed]).toContainEqual({ status: a.status, body: a.body });
    expect(h.logLines.slice(before)).toEqual([]);
  });

  it.each([
    ['65 characters', 'i'.repeat(65), 'id must be at most 64 characters (got 65).'],
    ['10,000 characters (never echoed)', 'i'.repeat(10_000), 'id must be at most 64 characters (got 10000).'],
    ['a control character', 'a\u0000b', 'id must not contain control characters.'],
  ])('400 for an id of %s, on GET and DELETE', async (_, id, message) => {
    const account = await h.account();
    for (const res of [shotGet(h.app, account.key, id), shotDelete(h.app, account.key, id)]) {
      const a = await answer(res);
      expectError(a, 400, shot(400, message));
      expect(a.text.length).toBeLessThan(400);
    }
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('400 for a path parameter that is not valid percent-encoding', async () => {
    const account = await h.account();
    for (const path of ['/v1/tasks/%ZZ', '/v1/tasks/%E0%A4%A']) {
      const a = await answer(h.app.fetch(`${B}${path}`, { headers: { 'x-access-key': account.key } }));
      expectError(a, 400, shot(400, 'The path parameter id is not valid percent-encoding.'));
    }
  });

  it('a percent-encoded id is decoded', async () => {
    const account = await h.account();
    await h.task(account.id, { id: 'a b/c' });
    const a = await answer(h.app.fetch(`${B}/v1/tasks/a%20b%2Fc`, { headers: { 'x-access-key': account.key } }));
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ id: 'a b/c' });
  });

  it.each([
    ['malformed JSON', '{"access_key": ', 'The request body is not valid JSON.'],
    ['a JSON array', '[]', 'The request body must be a JSON object.'],
    ['a non-string access_key', '{"access_key": 5}', 'access_key must be a string.'],
  ])('400 for a DELETE whose body (the key’s only place) is %s; nothing deleted', async (_, body, message) => {
    const account = await h.account();
    const id = await h.task(account.id);
    const a = await answer(shotDelete(h.app, undefined, id, { body, headers: { 'content-type': 'application/json' } }));
    expectError(a, 400, shot(400, message));
    expect(await taskRow(h, id)).not.toBeNull();
  });

  it('404 for GET of a missing id and of another account’s, byte for byte alike; GET /v1/tasks lists only the caller’s', async () => {
    const owner = await h.account();
    const stranger = await h.account();
    const id = 'iso-get-5650820808835072';
    const missing = await answer(shotGet(h.app, stranger.key, id));
    expectError(missing, 404, shot(404, `Task "${id}" was not found.`));
    await h.task(owner.id, { id });
    const foreign = await answer(shotGet(h.app, stranger.key, id));
    expect([foreign.status, foreign.type, foreign.text]).toEqual([missing.status, missing.type, missing.text]);
    const list = await answer(h.app.fetch(`${B}/v1/tasks`, { headers: { 'x-access-key': stranger.key } }));
    expect(list.status).toBe(200);
    expect(list.body).toEqual([]);
  });

  it('409 for deleting a task in progress; nothing deleted, no quota', async () => {
    const account = await h.account();
    const id = await h.task(account.id, { id: 'running-shot', inProgress: true });
    const a = await answer(shotDelete(h.app, account.key, id));
    expectError(a, 409, shot(409, `Task "${id}" is running now and cannot be deleted; retry when the run ends.`));
    expect(await taskRow(h, id)).toMatchObject({ id, inProgress: true });
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('reads never need quota: GET answers while DELETE is 423', async () => {
    const account = await h.account({ quotaLimit: 1, quotaUsed: 1 });
    const id = await h.task(account.id);
    expect((await answer(shotGet(h.app, account.key, id))).status).toBe(200);
    expect((await answer(h.app.fetch(`${B}/v1/tasks`, { headers: { 'x-access-key': account.key } }))).status).toBe(200);
    expectError(await answer(shotDelete(h.app, account.key, id)), 423, shot(423, QUOTA_MESSAGE));
  });

  it('402 for reads too (the plan requirement)', async () => {
    const account = await h.account({ plan: 'GROWTH' });
    const id = await h.task(account.id);
    expectError(await answer(shotGet(h.app, account.key, id)), 402, shot(402, PLAN_MESSAGE, PLAN_DETAILS));
    expectError(
      await answer(h.app.fetch(`${B}/v1/tasks`, { headers: { 'x-access-key': account.key } })),
      402,
      shot(402, PLAN_MESSAGE, PLAN_DETAILS),
    );
  });

  it('429 for reads past the limit, which reads and deletes share', async () => {
    const account = await limited.account();
    const id = await limited.task(account.id);
    for (let i = 0; i < 3; i++) expect((await answer(shotGet(limited.app, account.key, id))).status).toBe(200);
    expect((await answer(shotDelete(limited.app, account.key, 'nope'))).status).toBe(404);
    const a = await answer(shotGet(limited.app, account.key, id));
    expectError(a, 429, shot(429, 'Rate limit of 4 operations per account per 60s exceeded; retry in 60s.'));
    expect(a.headers.get('retry-after')).toBe('60');
    const list = await answer(limited.app.fetch(`${B}/v1/tasks`, { headers: { 'x-access-key': account.key } }));
    expect(list.status).toBe(429);
    expect(list.headers.get('retry-after')).toBe('60');
  });

  it.each([
    ['PUT', '/v1/tasks', 'GET, HEAD'],
    ['POST', '/v1/tasks', 'GET, HEAD'],
    ['DELETE', '/v1/tasks', 'GET, HEAD'],
    ['PUT', '/v1/tasks/abc', 'GET, HEAD, DELETE'],
    ['POST', '/v1/tasks/abc', 'GET, HEAD, DELETE'],
    ['PATCH', '/v1/tasks/abc', 'GET, HEAD, DELETE'],
  ])('405 for %s %s with Allow: %s', async (method, path, allow) => {
    const account = await h.account();
    const a = await answer(h.app.fetch(`${B}${path}`, { method, headers: { 'x-access-key': account.key } }));
    expectError(a, 405, shot(405, `This path takes ${allow}.`));
    expect(a.headers.get('allow')).toBe(allow);
  });
});

describe('connector schedule cancel (document 002)', () => {
  it.each([
    ['ACTIVE', 'ACTIVE'],
    ['PAUSED', 'PAUSED'],
    ['ERROR', 'ERROR'],
    ['CREATE_PENDING', 'CREATE-PENDING'],
  ] as const)('cancels a %s schedule (spelled %s)', async (status, spelled) => {
    const account = await h.account();
    const id = await h.task(account.id, { status });
    const a = await answer(cancel(h.app, account.key, id));
    expect({ status: a.status, body: a.body }).toEqual({
      status: 200,
      body: { success: true, scheduleId: id, oldStatus: spelled, newStatus: 'CANCELLED' },
    });
  });

  it.each([
    ['CANCELLED', 'CANCELLED'],
    ['NON_EXISTING', 'NON-EXISTING'],
  ] as const)(
    'a %s schedule cannot be cancelled: 200 with errorCode 7070, no quota, unchanged',
    async (status, spelled) => {
      const account = await h.account();
      const id = await h.task(account.id, { status });
      const before = await taskRow(h, id);
      const a = await answer(cancel(h.app, account.key, id));
      expectError(a, 200, nonExisting(id, spelled));
      await expectUntouched(h, id, before);
      expect(await h.quotaUsed(account.id)).toBe(0);
    },
  );

  it('an in-progress ACTIVE schedule is cancelled (cancel stops future runs; the run goes on)', async () => {
    const account = await h.account();
    const id = await h.task(account.id, { inProgress: true });
    const a = await answer(cancel(h.app, account.key, id));
    expect(a.body).toEqual({ success: true, scheduleId: id, oldStatus: 'ACTIVE', newStatus: 'CANCELLED' });
  });

  it('the body may be {} or empty; anything else must be a JSON object (400, errorCode 1000)', async () => {
    const account = await h.account();
    for (const body of ['{}', '', null, '  ', '{"reason": "x"}']) {
      const a = await answer(cancel(h.app, account.key, 'no-such', body));
      expectError(a, 200, nonExisting('no-such'));
    }
    for (const [body, details] of [
      ['{', 'The request body is not valid JSON.'],
      ['not json', 'The request body is not valid JSON.'],
      ['[]', 'The request body must be a JSON object.'],
      ['null', 'The request body must be a JSON object.'],
      ['"x"', 'The request body must be a JSON object.'],
      ['5', 'The request body must be a JSON object.'],
    ] as const) {
      const a = await answer(cancel(h.app, account.key, 'no-such', body));
      expectError(a, 400, conn(1000, 'Invalid request', details));
    }
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('400 for path limits (never echoing the key) and bad ids, before authentication', async () => {
    const long = 'k'.repeat(51);
    const a = await answer(cancel(h.app, long, 'x'));
    expectError(a, 400, conn(1000, 'Invalid request', 'apiKey must be at most 50 characters.'));
    const huge = 'k'.repeat(100_000);
    const b = await answer(cancel(h.app, huge, 'x'));
    expectError(b, 400, conn(1000, 'Invalid request', 'apiKey must be at most 50 characters.'));
    const c = await answer(cancel(h.app, WRONG_KEY, 's'.repeat(33)));
    expectError(c, 400, conn(1000, 'Invalid request', 'scheduleId must be at most 32 characters.'));
    const bad = await answer(h.app.fetch(`${B}/schedule/${WRONG_KEY}/%ZZ/cancel`, { method: 'POST', body: '{}' }));
    expectError(
      bad,
      400,
      conn(1000, 'Invalid request', 'The path parameter scheduleId is not valid percent-encoding.'),
    );
    expect(bad.text).not.toContain(WRONG_KEY);
  });

  it('400 for a schedule id with a control character, after authentication', async () => {
    const account = await h.account();
    const a = await answer(cancel(h.app, account.key, 'a\u0001b'));
    expectError(a, 400, conn(1000, 'Invalid request', 'id must not contain control characters.'));
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('401 for an unknown key, a blank one, and one with a control character; the key never in the body', async () => {
    for (const key of [WRONG_KEY, ' ', 'k\u0000k']) {
      const a = await answer(cancel(h.app, key, 'x'));
      expectError(a, 401, conn(1001, 'Invalid API key', UNKNOWN_KEY));
    }
  });

  it('429 per schedule id: the 3rd cancel of one id within the window (scheduleMax 2), another id still admitted', async () => {
    const account = await limited.account();
    const id = await limited.task(account.id, { status: 'CANCELLED' });
    for (let i = 0; i < 2; i++) expect((await answer(cancel(limited.app, account.key, id))).status).toBe(200);
    const a = await answer(cancel(limited.app, account.key, id));
    expectError(a, 429, conn(1009, 'Too many requests'));
    expect(a.headers.get('retry-after')).toBe('60');
    const other = await answer(cancel(limited.app, account.key, 'another-id'));
    expectError(other, 200, nonExisting('another-id'));
  });

  it('405 for other methods, with Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const a = await answer(h.app.fetch(`${B}/schedule/${WRONG_KEY}/x/cancel`, { method }));
      expectError(a, 405, conn(1000, 'Method not allowed', 'This path takes POST.'));
      expect(a.headers.get('allow')).toBe('POST');
    }
  });

  it('a body of exactly 16 KiB is read; one byte more is 413', async () => {
    const account = await h.account();
    const exact = `{"p":"${'x'.repeat(SMALL_LIMIT - 8)}"}`;
    expect(exact.length).toBe(SMALL_LIMIT);
    expectError(await answer(cancel(h.app, account.key, 'no-such', exact)), 200, nonExisting('no-such'));
    const over = `{"p":"${'x'.repeat(SMALL_LIMIT - 7)}"}`;
    expectError(
      await answer(cancel(h.app, account.key, 'no-such', over)),
      413,
      conn(1000, 'Request body too large', SMALL_TOO_LARGE),
    );
  });
});

describe('workspace batch delete (document 003)', () => {
  it.each([
    ['an empty body', ''],
    ['a blank body', ' \n'],
    ['no body at all', null],
  ])('400 WKS.0001 for %s', async (_, body) => {
    const account = await h.account();
    const a = await answer(batchDelete(h.app, account.key, body));
    expectError(
      a,
      400,
      wks(
        'WKS.0001',
        'The request message input by the interface is empty.',
        'The request message input by the interface is empty.',
      ),
    );
  });

  it.each([
    ['malformed JSON', '{"task_ids": [', 'The request body is not valid JSON.'],
    ['an object without task_ids', '{}', 'The request body must be a JSON object with task_ids.'],
    ['an array', '["a"]', 'The request body must be a JSON object with task_ids.'],
    ['null', 'null', 'The request body must be a JSON object with task_ids.'],
    ['task_ids a string', '{"task_ids": "a"}', 'task_ids must be an array of strings.'],
    ['task_ids with a number', '{"task_ids": ["a", 1]}', 'task_ids must be an array of strings.'],
    ['task_ids null', '{"task_ids": null}', 'task_ids must be an array of strings.'],
    ['task_ids empty', '{"task_ids": []}', 'task_ids must not be empty.'],
    [
      '1,001 task_ids',
      JSON.stringify({ task_ids: Array.from({ length: 1001 }, (_, i) => `t${i}`) }),
      'At most 1000 task_ids per call; got 1001.',
    ],
    [
      'a 65-character id',
      JSON.stringify({ task_ids: ['ok', 'i'.repeat(65)] }),
      'task_ids[1] has 65 characters; task_ids have at most 64.',
    ],
    [
      'a 10,000-character id',
      JSON.stringify({ task_ids: ['i'.repeat(10_000)] }),
      'task_ids[0] has 10000 characters; task_ids have at most 64.',
    ],
    [
      'an id with a control character',
      JSON.stringify({ task_ids: ['a\nb'] }),
      'task_ids[0] contains a control character.',
    ],
  ])('400 WKS.0002 for %s; nothing deleted', async (_, body, detail) => {
    const account = await h.account();
    const id = await h.task(account.id);
    const a = await answer(batchDelete(h.app, account.key, body));
    expectError(a, 400, wks('WKS.0002', 'Invalid request parameter.', detail));
    expect(a.text.length).toBeLessThan(400);
    expect(await taskRow(h, id)).not.toBeNull();
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('1,000 ids are accepted (all missing here): error_detail names 20 and counts the rest, failed_tasks lists all 1,000 in order', async () => {
    const account = await h.account();
    const ids = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    const a = await answer(batchOf(h.app, account.key, ids));
    const failed = ids.map((task_id) => ({ task_id, ...WKS_NOT_FOUND }));
    const detail = `${ids
      .slice(0, 20)
      .map((id) => `"${id}": WKS.0404 The scheduled task does not exist.`)
      .join('; ')}; and 980 more (see failed_tasks)`;
    expectError(a, 400, wksFailed(1000, failed, detail));
    expect((a.body as { failed_tasks: WksFailure[] }).failed_tasks.map((f) => f.task_id)).toEqual(ids);
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it.each([
    [20, ''],
    [21, '; and 1 more (see failed_tasks)'],
  ])('%i failures: error_detail names the first 20%s', async (n, tail) => {
    const account = await h.account();
    const ids = Array.from({ length: n }, (_, i) => `f${i}`);
    const a = await answer(batchOf(h.app, account.key, ids));
    const detail =
      ids
        .slice(0, 20)
        .map((id) => `"${id}": WKS.0404 The scheduled task does not exist.`)
        .join('; ') + tail;
    expectError(
      a,
      400,
      wksFailed(
        n,
        ids.map((task_id) => ({ task_id, ...WKS_NOT_FOUND })),
        detail,
      ),
    );
  });

  it('error_detail quotes ids as messages quote client input (bidi and zero-width escaped, 32 characters); failed_tasks has them exact', async () => {
    const account = await h.account();
    const rlo = 'evil\u202Etxt.exe';
    const zw = 'a\u200Bb';
    const long = `${'L'.repeat(32)}${'M'.repeat(32)}`;
    const a = await answer(batchOf(h.app, account.key, [rlo, zw, long]));
    const failed = [rlo, zw, long].map((task_id) => ({ task_id, ...WKS_NOT_FOUND }));
    const detail = [
      '"evil\\u202etxt.exe": WKS.0404 The scheduled task does not exist.',
      '"a\\u200bb": WKS.0404 The scheduled task does not exist.',
      `"${'L'.repeat(32)}…": WKS.0404 The scheduled task does not exist.`,
    ].join('; ');
    expectError(a, 400, wksFailed(3, failed, detail));
    const body = a.body as { error_detail: string; failed_tasks: WksFailure[] };
    expect(body.error_detail).not.toMatch(/[\u202E\u200B]/);
    expect(body.failed_tasks.map((f) => f.task_id)).toEqual([rlo, zw, long]);
    // Exact as data, but never raw on the wire.
    expect(a.text).not.toMatch(/[\u202E\u200B]/);
    expect(a.text).toContain('"task_id":"evil\\u202etxt.exe"');
  });

  it('project_id: any printable value up to 64 characters selects nothing; longer or with a control character is 400', async () => {
    const account = await h.account();
    const [a1, a2] = await h.tasks(account.id, [{}, {}]);
    expect((await answer(batchOf(h.app, account.key, [a1!]))).status).toBe(200);
    const p64 = await answer(
      batchDelete(h.app, account.key, JSON.stringify({ task_ids: [a2] }), { project: 'p'.repeat(64) }),
    );
    expect(p64.status).toBe(200);
    const id = await h.task(account.id);
    for (const [project, detail] of [
      ['p'.repeat(65), 'project_id must be at most 64 characters.'],
      ['p'.repeat(5000), 'project_id must be at most 64 characters.'],
      ['a%01b', 'project_id must not contain control characters.'],
      ['a%ZZb', 'The path parameter project_id is not valid percent-encoding.'],
    ] as const) {
      const a = await answer(batchDelete(h.app, account.key, JSON.stringify({ task_ids: [id] }), { project }));
      expectError(a, 400, wks('WKS.0002', 'Invalid request parameter.', detail));
    }
    expect(await taskRow(h, id)).not.toBeNull();
  });

  it('401 APIGW.0301 without a token and with a wrong one; X-Access-Key and Bearer accepted too', async () => {
    const account = await h.account();
    const ids = await h.tasks(account.id, [{}, {}]);
    const body = JSON.stringify({ task_ids: [ids[0]] });
    const msg = 'Incorrect IAM authentication information.';
    const detail = 'Send a valid API key in the X-Auth-Token header.';
    expectError(await answer(batchDelete(h.app, undefined, body)), 401, wks('APIGW.0301', msg, detail));
    expectError(await answer(batchDelete(h.app, WRONG_KEY, body)), 401, wks('APIGW.0301', msg, detail));
    expect(await taskRow(h, ids[0]!)).not.toBeNull();
    const viaHeader = await answer(batchDelete(h.app, undefined, body, { headers: { 'x-access-key': account.key } }));
    expect(viaHeader.status).toBe(200);
    const viaBearer = await answer(
      batchDelete(h.app, undefined, JSON.stringify({ task_ids: [ids[1]] }), {
        headers: { authorization: `Bearer ${account.key}` },
      }),
    );
    expect(viaBearer.status).toBe(200);
    expect(await h.quotaUsed(account.id)).toBe(2);
  });

  it('an in-progress task: 400 naming it (WKS.0409), nothing deleted', async () => {
    const account = await h.account();
    const idle = await h.task(account.id);
    const running = await h.task(account.id, { inProgress: true });
    const a = await answer(batchOf(h.app, account.key, [idle, running]));
    expectError(a, 400, wksFailed(2, [{ task_id: running, ...WKS_RUNNING }]));
    expect(await taskRow(h, idle)).not.toBeNull();
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('failed_tasks lists the failed ids in request order, not the database’s', async () => {
    const account = await h.account();
    const ok = await h.task(account.id, { id: 'm-ok' });
    await h.task(account.id, { id: 'a-running', inProgress: true });
    const a = await answer(batchOf(h.app, account.key, ['z-missing', ok, 'a-running', 'b-missing']));
    expectError(
      a,
      400,
      wksFailed(4, [
        { task_id: 'z-missing', ...WKS_NOT_FOUND },
        { task_id: 'a-running', ...WKS_RUNNING },
        { task_id: 'b-missing', ...WKS_NOT_FOUND },
      ]),
    );
    expect(await taskRow(h, ok)).not.toBeNull();
  });

  it('duplicate ids count once', async () => {
    const account = await h.account();
    const id = await h.task(account.id);
    expect((await answer(batchOf(h.app, account.key, [id, id]))).status).toBe(200);
    expect(await h.quotaUsed(account.id)).toBe(1);
  });

  it('423 when the quota left is less than the tasks to delete: nothing deleted', async () => {
    const account = await h.account({ quotaLimit: 2, quotaUsed: 1 });
    const ids = await h.tasks(account.id, [{}, {}]);
    const a = await answer(batchOf(h.app, account.key, ids));
    expectError(a, 423, wks('WKS.0423', 'Insufficient quota.', 'Quota exceeded: 2 units requested, 1 of 2 left.'));
    for (const id of ids) expect(await taskRow(h, id)).not.toBeNull();
    expect(await h.quotaUsed(account.id)).toBe(1);
  });

  it('405 for other methods, with Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const a = await answer(h.app.fetch(`${B}/v2/p/scheduled-tasks/batch-delete`, { method }));
      expectError(a, 405, wks('WKS.0405', 'Method not allowed.', 'This path takes POST.'));
      expect(a.headers.get('allow')).toBe('POST');
    }
  });
});

describe('image service task delete (document 004)', () => {
  it('task_uid as multipart, urlencoded or JSON field', async () => {
    const account = await h.account();
    const [a, b, c] = await h.tasks(account.id, [{}, {}, {}]);
    const answers = [
      await answer(imageDelete(h.app, account.key, form({ task_uid: a! }))),
      await answer(
        imageDelete(h.app, account.key, new URLSearchParams({ task_uid: b! }).toString(), {
          'content-type': 'application/x-www-form-urlencoded',
        }),
      ),
      await answer(
        imageDelete(h.app, account.key, JSON.stringify({ task_uid: c }), { 'content-type': 'application/json' }),
      ),
    ];
    for (const x of answers) expectError(x, 200, { type: 'success' });
    for (const id of [a, b, c]) expect(await taskRow(h, id!)).toBeNull();
    expect(await h.quotaUsed(account.id)).toBe(3);
  });

  it.each([
    ['an empty JSON object', '{}', { 'content-type': 'application/json' }],
    ['a form without task_uid', 'other=1', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['an empty task_uid', 'task_uid=', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['no body', null, {}],
  ])('400 "Не указан параметр task_uid" for %s', async (_, body, headers) => {
    const account = await h.account();
    const a = await answer(imageDelete(h.app, account.key, body, headers));
    expectError(a, 400, img('Не указан параметр task_uid'));
  });

  it.each([
    ['a number', '{"task_uid": 5}', { 'content-type': 'application/json' }, 'Параметр task_uid должен быть строкой'],
    [
      'an array',
      '{"task_uid": ["a"]}',
      { 'content-type': 'application/json' },
      'Параметр task_uid должен быть строкой',
    ],
    [
      'malformed JSON',
      '{"task_uid": ',
      { 'content-type': 'application/json' },
      'Некорректный запрос: передайте task_uid в JSON, форме или multipart',
    ],
    [
      'a JSON array',
      '["a"]',
      { 'content-type': 'application/json' },
      'Некорректный запрос: передайте task_uid в JSON, форме или multipart',
    ],
    [
      'a malformed multipart body',
      'garbage without a boundary',
      { 'content-type': 'multipart/form-data; boundary=zzz' },
      'Некорректный запрос: передайте task_uid в JSON, форме или multipart',
    ],
    [
      'a multipart body without a boundary parameter',
      '--zzz\r\n',
      { 'content-type': 'multipart/form-data' },
      'Некорректный запрос: передайте task_uid в JSON, форме или multipart',
    ],
    [
      'a 65-character task_uid',
      `task_uid=${'u'.repeat(65)}`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      'Некорректный параметр task_uid',
    ],
    [
      'a 10,000-character task_uid',
      `task_uid=${'u'.repeat(10_000)}`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      'Некорректный параметр task_uid',
    ],
    [
      'a task_uid with a control character',
      'task_uid=a%00b',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'Некорректный параметр task_uid',
    ],
  ])('400 for %s', async (_, body, headers, message) => {
    const account = await h.account();
    const id = await h.task(account.id);
    const a = await answer(imageDelete(h.app, account.key, body, headers));
    expectError(a, 400, img(message));
    expect(await taskRow(h, id)).not.toBeNull();
  });

  it('a file part is not a field: alone, task_uid is missing (400); with string values after it, the first string is used', async () => {
    const account = await h.account();
    const [id, decoy, second] = (await h.tasks(account.id, [{}, {}, {}])) as [string, string, string];
    const fileOnly = new FormData();
    fileOnly.append('task_uid', new Blob([decoy]), 'uid.txt');
    expectError(await answer(imageDelete(h.app, account.key, fileOnly)), 400, img('Не указан параметр task_uid'));
    const fileFirst = new FormData();
    fileFirst.append('task_uid', new Blob([decoy]), 'uid.txt');
    fileFirst.append('task_uid', id);
    fileFirst.append('task_uid', second);
    expectError(await answer(imageDelete(h.app, account.key, fileFirst)), 200, { type: 'success' });
    expect(await taskRow(h, id)).toBeNull();
    expect(await taskRow(h, decoy)).not.toBeNull();
    expect(await taskRow(h, second)).not.toBeNull();
    expect(await h.quotaUsed(account.id)).toBe(1);
  });

  it('401 "Неверный токен авторизации" with no token, a wrong one, or not a Bearer', async () => {
    const account = await h.account();
    const id = await h.task(account.id);
    const tokens: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${WRONG_KEY}` },
      { authorization: `Basic ${account.key}` },
    ];
    for (const headers of tokens) {
      const a = await answer(imageDelete(h.app, undefined, form({ task_uid: id }), headers));
      expectError(a, 401, img('Неверный токен авторизации'));
    }
    expect(await taskRow(h, id)).not.toBeNull();
  });

  it('a task in progress: 200 with the document’s refusal; nothing deleted, no quota', async () => {
    const account = await h.account();
    const id = await h.task(account.id, { inProgress: true });
    expectError(await answer(imageOf(h.app, account.key, id)), 200, img(IMG_IN_PROGRESS));
    expect(await taskRow(h, id)).not.toBeNull();
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('405 for other methods, with Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const a = await answer(h.app.fetch(`${B}/api/v1/task/delete`, { method }));
      expectError(a, 405, img('Метод не поддерживается'));
      expect(a.headers.get('allow')).toBe('POST');
    }
  });
});

// ---- The key before the body --------------------------------------------------

/** A stream that never sends a byte and never ends: reading it would never finish. */
function silentStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ pull: () => new Promise<void>(() => {}) });
}

describe('the key before the body: the connector, workspace and image doors authenticate first', () => {
  const CONN_401 = conn(1001, 'Invalid API key', UNKNOWN_KEY);
  const WKS_401 = wks(
    'APIGW.0301',
    'Incorrect IAM authentication information.',
    'Send a valid API key in the X-Auth-Token header.',
  );
  const IMG_401 = img('Неверный токен авторизации');
  const JSON_HEADERS = { 'content-type': 'application/json' };

  it.each([
    ['not JSON', '{'],
    ['a JSON array', '[]'],
    ['a JSON string', '"x"'],
  ])('a wrong key with a body that is %s: 401 (not 400) on every one of the three', async (_, body) => {
    expectError(await answer(cancel(h.app, WRONG_KEY, 'x', body)), 401, CONN_401);
    for (const key of [WRONG_KEY, undefined]) {
      expectError(await answer(batchDelete(h.app, key, body)), 401, WKS_401);
      expectError(await answer(imageDelete(h.app, key, body, JSON_HEADERS)), 401, IMG_401);
    }
  });

  it('a wrong key with a body the door would refuse as empty or as a bad form: 401', async () => {
    for (const key of [WRONG_KEY, undefined]) {
      for (const body of ['', null]) expectError(await answer(batchDelete(h.app, key, body)), 401, WKS_401);
      for (const [body, type] of [
        ['garbage without a boundary', 'multipart/form-data; boundary=zzz'],
        ['--zzz\r\n', 'multipart/form-data'],
        ['other=1', 'application/x-www-form-urlencoded'],
      ] as const) {
        expectError(await answer(imageDelete(h.app, key, body, { 'content-type': type })), 401, IMG_401);
      }
    }
  });

  it('a wrong key with a body over the limit: 401, the body never read (one that never ends is answered)', async () => {
    const connectorDoor = DOORS.find((d) => d.logName === 'connector-schedules')!;
    const over = `{"pad":"${'x'.repeat(BATCH_LIMIT)}"}`;
    for (const body of [over, streamOf(over), silentStream()]) {
      expectError(await answer(bigRequest(connectorDoor, WRONG_KEY, 'x', body)), 401, CONN_401);
    }
    for (const key of [WRONG_KEY, undefined]) {
      for (const body of [over, streamOf(over), silentStream()]) {
        const init = { method: 'POST', body, duplex: 'half' } as RequestInit;
        const auth = key ? { 'x-auth-token': key } : {};
        expectError(
          await answer(
            h.app.fetch(`${B}/v2/p/scheduled-tasks/batch-delete`, { ...init, headers: { ...JSON_HEADERS, ...auth } }),
          ),
          401,
          WKS_401,
        );
      }
      for (const body of [over, streamOf(over), silentStream()]) {
        const init = { method: 'POST', body, duplex: 'half' } as RequestInit;
        const auth = key ? { authorization: `Bearer ${key}` } : {};
        expectError(
          await answer(h.app.fetch(`${B}/api/v1/task/delete`, { ...init, headers: { ...JSON_HEADERS, ...auth } })),
          401,
          IMG_401,
        );
      }
    }
  });

  it('a valid key with a bad body still gets the door’s 400, and 413 over its limit; nothing changed', async () => {
    const account = await h.account();
    const id = await h.task(account.id);
    const before = await taskRow(h, id);
    const details = 'The request body is not valid JSON.';
    expectError(await answer(cancel(h.app, account.key, id, '{')), 400, conn(1000, 'Invalid request', details));
    expectError(
      await answer(batchDelete(h.app, account.key, '{')),
      400,
      wks('WKS.0002', 'Invalid request parameter.', details),
    );
    expectError(
      await answer(imageDelete(h.app, account.key, '{', JSON_HEADERS)),
      400,
      img('Некорректный запрос: передайте task_uid в JSON, форме или multipart'),
    );
    const over = `{"pad":"${'x'.repeat(BATCH_LIMIT)}"}`;
    for (const door of DOORS) {
      expectError(await answer(bigRequest(door, account.key, id, over)), 413, TOO_LARGE_BODY[door.logName]);
    }
    await expectUntouched(h, id, before);
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('the screenshot DELETE reads its body only for a key: with a wrong key in the header the body is not read (401)', async () => {
    const over = `{"pad":"${'x'.repeat(BATCH_LIMIT)}"}`;
    for (const body of ['{', over, streamOf(over), silentStream()]) {
      const a = await answer(
        shotDelete(h.app, WRONG_KEY, 'x', { body, duplex: 'half', headers: JSON_HEADERS } as RequestInit),
      );
      expectError(a, 401, shot(401, UNKNOWN_KEY));
    }
    // Without one, the body is where the key may be: read, and refused as the door refuses bodies.
    const none = await answer(shotDelete(h.app, undefined, 'x', { body: '{', headers: JSON_HEADERS }));
    expectError(none, 400, shot(400, 'The request body is not valid JSON.'));
    const big = await answer(
      shotDelete(h.app, undefined, 'x', { body: streamOf(over), duplex: 'half', headers: JSON_HEADERS } as RequestInit),
    );
    expectError(big, 413, shot(413, SMALL_TOO_LARGE));
  });

  describe('on a real socket: a declared or chunked body the client never finishes sending', () => {
    let server: Listening;
    beforeAll(async () => {
      server = await listen(h.app);
    });
    afterAll(() => server?.close());

    interface RawDoor {
      name: string;
      /** The request line and the key's header (the connector's key is in its path). */
      head(key: string): string;
      unauthorized: unknown;
      limit: number;
      tooLarge: unknown;
    }
    const RAW_DOORS: RawDoor[] = [
      {
        name: 'connector',
        head: (key) => `POST /schedule/${key}/x/cancel HTTP/1.1\r\n`,
        unauthorized: CONN_401,
        limit: SMALL_LIMIT,
        tooLarge: TOO_LARGE_BODY['connector-schedules'],
      },
      {
        name: 'workspace',
        head: (key) => `POST /v2/p/scheduled-tasks/batch-delete HTTP/1.1\r\nX-Auth-Token: ${key}\r\n`,
        unauthorized: WKS_401,
        limit: BATCH_LIMIT,
        tooLarge: TOO_LARGE_BODY['workspace-batch-delete'],
      },
      {
        name: 'image',
        head: (key) => `POST /api/v1/task/delete HTTP/1.1\r\nAuthorization: Bearer ${key}\r\n`,
        unauthorized: IMG_401,
        limit: SMALL_LIMIT,
        tooLarge: TOO_LARGE_BODY['image-tasks'],
      },
      {
        name: 'screenshot DELETE (the key in the header)',
        head: (key) => `DELETE /v1/tasks/x HTTP/1.1\r\nX-Access-Key: ${key}\r\n`,
        unauthorized: shot(401, UNKNOWN_KEY),
        limit: SMALL_LIMIT,
        tooLarge: TOO_LARGE_BODY['screenshot-tasks-v1'],
      },
    ];

    const send = (head: string, framing: string, body?: string) =>
      rawHttp(server.origin, `${head}Host: x\r\nContent-Type: application/json\r\n${framing}\r\n`, { body });

    function expectRaw(
      a: { status: number; headers: Record<string, string>; body: string },
      status: number,
      body: unknown,
    ) {
      expect({ status: a.status, type: a.headers['content-type'], body: JSON.parse(a.body) }).toEqual({
        status,
        type: JSON_TYPE,
        body,
      });
      expect(a.body).toBe(JSON.stringify(body));
    }

    it.each(RAW_DOORS)(
      '$name: a wrong key declaring 10 MB (none sent) or chunked and never ended: 401',
      async (door) => {
        expectRaw(await send(door.head(WRONG_KEY), 'Content-Length: 10485760\r\n'), 401, door.unauthorized);
        expectRaw(
          await send(door.head(WRONG_KEY), 'Transfer-Encoding: chunked\r\n', `400\r\n${'x'.repeat(1024)}\r\n`),
          401,
          door.unauthorized,
        );
      },
    );

    it.each(RAW_DOORS.slice(0, 3))(
      '$name: a valid key declaring one byte over the limit (none sent), or sending it chunked: 413',
      async (door) => {
        const account = await h.account();
        expectRaw(await send(door.head(account.key), `Content-Length: ${door.limit + 1}\r\n`), 413, door.tooLarge);
        const chunk = 'x'.repeat(1024);
        const chunks = `400\r\n${chunk}\r\n`.repeat(door.limit / 1024);
        expectRaw(
          await send(door.head(account.key), 'Transfer-Encoding: chunked\r\n', `${chunks}1\r\nx\r\n`),
          413,
          door.tooLarge,
        );
        expect(await h.quotaUsed(account.id)).toBe(0);
      },
    );

    it('the screenshot DELETE reads its body only without a key: 413 over 16 KiB then, unread with a key in the header', async () => {
      expectRaw(
        await send('DELETE /v1/tasks/x HTTP/1.1\r\n', `Content-Length: ${SMALL_LIMIT + 1}\r\n`),
        413,
        TOO_LARGE_BODY['screenshot-tasks-v1'],
      );
      const account = await h.account();
      expectRaw(
        await send(`DELETE /v1/tasks/x HTTP/1.1\r\nX-Access-Key: ${account.key}\r\n`, 'Content-Length: 10485760\r\n'),
        404,
        shot(404, 'Task "x" was not found.'),
      );
    });
  });
});

// ---- Unexpected failures -----------------------------------------------------

describe('500: an unexpected failure (the Task table is gone) is masked and logged once at error', () => {
  let broken: Harness;
  let key: string;

  beforeAll(async () => {
    broken = await createHarness();
    ({ key } = await broken.account());
    await broken.db.transaction(async (tx) => {
      // TaskRun first: PostgreSQL refuses to drop a table others reference.
      await tx.$executeRawUnsafe('DROP TABLE "TaskRun"');
      await tx.$executeRawUnsafe('DROP TABLE "Task"');
    });
  });

  afterAll(() => broken?.close());

  /** The app, with an X-Request-Id on every request the door builders make. */
  const withRequestId = (app: App, requestId: string) =>
    ({
      fetch: (url: string, init: RequestInit = {}) =>
        app.fetch(url, {
          ...init,
          headers: { ...(init.headers as Record<string, string>), 'x-request-id': requestId },
        }),
    }) as unknown as App;

  const cases: [string, string, (app: App, key: string) => Reply, unknown][] = [
    ['GET /v1/tasks/:id', 'screenshot-tasks-v1', (app, k) => shotGet(app, k, 'x'), shot(500, 'Unexpected error.')],
    [
      'GET /v1/tasks',
      'screenshot-tasks-v1',
      (app, k) => app.fetch(`${B}/v1/tasks`, { headers: { 'x-access-key': k } }),
      shot(500, 'Unexpected error.'),
    ],
    ...DOORS.map(
      (d) =>
        [d.name, d.logName, (app: App, k: string) => d.write(app, k, 'x'), d.masked.body] as [
          string,
          string,
          (app: App, key: string) => Reply,
          unknown,
        ],
    ),
  ];

  it.each(cases)('%s', async (_, doorName, send, body) => {
    const before = broken.logLines.length;
    const requestId = `broken-${doorName}-${before}`;
    const a = await answer(send(withRequestId(broken.app, requestId), key));
    expectError(a, 500, body);
    for (const leak of [
      'no such table',
      'does not exist',
      'SELECT',
      'DELETE FROM',
      'prisma',
      'Prisma',
      '/src/',
      'node_modules',
      '    at ',
    ]) {
      expect(a.text).not.toContain(leak);
    }
    const lines = broken.logLines.slice(before).flatMap((l) =>
      l
        .split('\n')
        .filter(Boolean)
        .map((x) => JSON.parse(x)),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, msg: 'unexpected error', door: doorName, requestId });
    expect(lines[0].err.stack).toMatch(/no such table|does not exist/);
    // The connector's key is in its path: never logged.
    expect(broken.logLines.slice(before).join('\n')).not.toContain(key);
  });
});

// ---- Around the doors --------------------------------------------------------

describe('around the doors', () => {
  const SHOT_404 = shot(404, 'No such endpoint.');
  const CONN_404 = conn(1000, 'Not found', 'No such endpoint.');
  const WKS_404 = wks(
    'APIGW.0101',
    'The API does not exist or has not been published in the environment.',
    'No such endpoint.',
  );
  const IMG_404 = img('Метод API не найден');

  /** GET, POST and DELETE of `path` with a valid key; each answer, and the account's rate limit left after. */
  async function everyMethod(path: string) {
    const account = await h.account();
    const answers: Answer[] = [];
    for (const method of ['GET', 'POST', 'DELETE']) {
      answers.push(
        await answer(
          h.app.fetch(`${B}${path}`, {
            method,
            headers: { 'x-access-key': account.key, 'content-type': 'application/json' },
            ...(method === 'POST' ? { body: '{}' } : {}),
          }),
        ),
      );
    }
    const res = await h.app.fetch(`${B}/v1/tasks`, { headers: { 'x-access-key': account.key } });
    return { answers, remaining: res.headers.get('ratelimit-remaining') };
  }

  it.each([
    ['/v1', SHOT_404],
    ['/v1/', SHOT_404],
    ['/v1/other', SHOT_404],
    ['/v1/taskss', SHOT_404],
    ['/v1/tasks/a/b', SHOT_404],
    ['/v2', WKS_404],
    ['/v2/p/scheduled-tasks', WKS_404],
    ['/v2/p/scheduled-tasks/batch-delete/x', WKS_404],
    ['/schedule', CONN_404],
    ['/schedule/k/i/cancel/x', CONN_404],
    ['/schedule/k/i', CONN_404],
    ['/api', IMG_404],
    ['/api/v1/task', IMG_404],
    ['/api/v1/task/delete/x', IMG_404],
    ['/api/v1/task/delete2', IMG_404],
  ])('%s, under a door’s first segment but no route of it: that door’s 404, counting nothing', async (path, body) => {
    const { answers, remaining } = await everyMethod(path);
    for (const a of answers) {
      expectError(a, 404, body);
      expect(a.headers.get('allow')).toBeNull();
      expect(a.headers.get('ratelimit-limit')).toBeNull();
    }
    // Nothing was counted against the account.
    expect(remaining).toBe('59');
  });

  it.each([
    '/other',
    '/graphqlx',
    '/graphql/x',
    '/v1x/tasks',
    '/V1/tasks',
    '/apis/v1/task/delete',
    '/schedules/k/i/cancel',
  ])('%s is not a door: yoga’s empty 404, counting nothing', async (path) => {
    const { answers, remaining } = await everyMethod(path);
    for (const a of answers) {
      expect({ status: a.status, text: a.text, allow: a.headers.get('allow') }).toEqual({
        status: 404,
        text: '',
        allow: null,
      });
    }
    expect(remaining).toBe('59');
  });

  it('the body limits: 16 KiB for a door whose body is one field, 128 KiB for the batch of 1,000 ids', () => {
    expect({ small: SMALL_BODY_BYTES, batch: MAX_REST_BODY_BYTES }).toEqual({ small: SMALL_LIMIT, batch: BATCH_LIMIT });
    // The largest batch the workspace door takes (1,000 ids of 64 characters) fits.
    const largest = JSON.stringify({ task_ids: Array.from({ length: 1000 }, (_, i) => String(i).padStart(64, 'i')) });
    expect(Buffer.byteLength(largest)).toBeLessThan(BATCH_LIMIT);
  });

  it('GraphQL still answers on /graphql in the same app, on the same data', async () => {
    const account = await h.account();
    const id = await h.task(account.id, { id: 'shared-with-graphql', name: 'shared' });
    const query =
      'query($id: ID!) { task(id: $id) { __typename ... on Task { id name } ... on NotFound { message } } }';
    const first = await h.request(query, { id }, { key: account.key });
    expect(first).toEqual({ status: 200, body: { data: { task: { __typename: 'Task', id, name: 'shared' } } } });
    expect((await answer(shotDelete(h.app, account.key, id))).status).toBe(204);
    const after = await h.request(query, { id }, { key: account.key });
    expect(after).toEqual({
      status: 200,
      body: { data: { task: { __typename: 'NotFound', message: `Task "${id}" was not found.` } } },
    });
    expect(await h.quotaUsed(account.id)).toBe(1);
  });
});
