// The REST doors on a real socket, driven by the real curl binary with the
// requests documents 000–003 describe: the screenshot service's Task API v1
// (get, list, delete), the connector's schedule cancel and the workspace's
// batch delete. Answers are compared with the documents field by field, in
// their key order, and the database is checked after each change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './helpers/harness.js';
import { curl, DOCUMENT_TASK, documentTask, parsed, taskRow } from './helpers/rest.js';
import { type Listening, listen } from './helpers/socket.js';

let h: Harness;
let server: Listening;

beforeAll(async () => {
  h = await createHarness();
  server = await listen(h.app);
});

afterAll(async () => {
  await server?.close();
  await h?.close();
});

const url = (path: string) => `${server.origin}${path}`;
const JSON_TYPE = /^application\/json\b/;

function expectRateLimitHeaders(headers: Headers, remaining: number) {
  expect({
    limit: headers.get('ratelimit-limit'),
    remaining: headers.get('ratelimit-remaining'),
    policy: headers.get('ratelimit-policy'),
    reset: headers.get('ratelimit-reset'),
  }).toEqual({ limit: '60', remaining: String(remaining), policy: '60;w=60', reset: expect.stringMatching(/^\d+$/) });
}

describe('document 001: GET /v1/tasks/:id', () => {
  it('GET /v1/tasks/5650820808835072?access_key=KEY answers the example JSON, field by field and in its key order', async () => {
    const account = await h.account();
    await documentTask(h, account.id);
    const res = await curl(url(`/v1/tasks/5650820808835072?access_key=${account.key}`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(JSON_TYPE);
    const body = parsed(res.body) as Record<string, unknown>;
    expect(body).toEqual(DOCUMENT_TASK);
    expect(Object.keys(body)).toEqual(Object.keys(DOCUMENT_TASK));
    // The id is a JSON number, as in the document (not "5650820808835072").
    expect(res.body).toBe(JSON.stringify(DOCUMENT_TASK));
    expect(res.body.startsWith('{"id":5650820808835072,')).toBe(true);
    expectRateLimitHeaders(res.headers, 59);
    // Reads never consume quota (the document's note).
    expect(await h.quotaUsed(account.id)).toBe(0);
  });

  it('takes the key in the X-Access-Key header too, with the same answer', async () => {
    const account = await h.account();
    await documentTask(h, account.id, '5650820808835073');
    const res = await curl(url('/v1/tasks/5650820808835073'), ['-H', `X-Access-Key: ${account.key}`]);
    expect(res.status).toBe(200);
    expect(parsed(res.body)).toEqual({ ...DOCUMENT_TASK, id: 5650820808835073 });
    expect(res.body).toBe(JSON.stringify({ ...DOCUMENT_TASK, id: 5650820808835073 }));
  });

  it.each([
    ['a non-numeric id', 'gsvyz98boa', 'gsvyz98boa'],
    ['a leading-zero id', '0123', '0123'],
    ['an id above 2^53-1', '9007199254740993', '9007199254740993'],
    ['an id far above 2^53-1', '99999999999999999999', '99999999999999999999'],
    ['the largest safe integer', '9007199254740991', 9007199254740991],
    ['"0"', '0', 0],
  ])('%s: id %s answers id %j', async (_, id, shown) => {
    const account = await h.account();
    await documentTask(h, account.id, id);
    const res = await curl(url(`/v1/tasks/${id}?access_key=${account.key}`));
    expect(res.status).toBe(200);
    const body = parsed(res.body) as Record<string, unknown>;
    expect(body).toEqual({ ...DOCUMENT_TASK, id: shown });
    expect(Object.keys(body)).toEqual(Object.keys(DOCUMENT_TASK));
    expect(res.body.startsWith(`{"id":${JSON.stringify(shown)},`)).toBe(true);
  });

  it('a paused task that never ran: enabled false, last_run null, runs 0', async () => {
    const account = await h.account();
    const id = await h.task(account.id, { id: 'never-ran', status: 'PAUSED', createdAt: new Date(1714296566_000) });
    const res = await curl(url(`/v1/tasks/${id}?access_key=${account.key}`));
    expect(res.status).toBe(200);
    expect(parsed(res.body)).toEqual({
      id: 'never-ran',
      name: expect.any(String),
      api: 'screenshot',
      query: 'url=https%3A%2F%2Fexample.com',
      frequency: 'every_day',
      crontab: '0 0 * * *',
      timezone: 'Etc/UTC',
      enabled: false,
      created: 1714296566,
      last_run: null,
      runs: 0,
    });
  });
});

describe('document 001: GET /v1/tasks', () => {
  it('an array of the account’s tasks, newest first; limit/after page it with a Link header that never holds the key', async () => {
    const account = await h.account();
    const other = await h.account();
    await h.task(other.id, { id: 'someone-elses', createdAt: new Date(1714296999_000) });
    const ids = ['list-e', 'list-d', 'list-c', 'list-b', 'list-a'];
    // Created oldest first (list-a) so the answer's order is not the insert order.
    for (const [i, id] of [...ids].reverse().entries()) {
      await h.task(account.id, { id, name: `task ${id}`, createdAt: new Date((1714296000 + i * 60) * 1000) });
    }
    const expected = ids.map((id, i) => ({
      id,
      name: `task ${id}`,
      api: 'screenshot',
      query: 'url=https%3A%2F%2Fexample.com',
      frequency: 'every_day',
      crontab: '0 0 * * *',
      timezone: 'Etc/UTC',
      enabled: true,
      created: 1714296000 + (ids.length - 1 - i) * 60,
      last_run: null,
      runs: 0,
    }));

    const all = await curl(url('/v1/tasks'), ['-H', `X-Access-Key: ${account.key}`]);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toMatch(JSON_TYPE);
    expect(all.headers.get('link')).toBeNull();
    const list = parsed(all.body) as Record<string, unknown>[];
    expect(list).toEqual(expected);
    for (const item of list) expect(Object.keys(item)).toEqual(Object.keys(DOCUMENT_TASK));
    expectRateLimitHeaders(all.headers, 59);

    // Pages of 2, following each Link as a client would (the key sent apart).
    const seen: unknown[] = [];
    let next: string | null = `/v1/tasks?limit=2&access_key=${account.key}`;
    const links: string[] = [];
    while (next) {
      const page = await curl(url(next), next.includes('access_key') ? [] : ['-H', `X-Access-Key: ${account.key}`]);
      expect(page.status).toBe(200);
      const items = parsed(page.body) as unknown[];
      expect(items.length).toBeLessThanOrEqual(2);
      seen.push(...items);
      const link = page.headers.get('link');
      if (link === null) break;
      links.push(link);
      expect(link).not.toContain(account.key);
      // Relative to the list's URL (so it survives a proxy's path prefix).
      const m = link.match(/^<(tasks\?limit=2&after=[^>&]+)>; rel="next"$/);
      expect(m, link).not.toBeNull();
      next = `/v1/${m![1]!}`;
    }
    expect(links).toHaveLength(2);
    expect(seen).toEqual(expected);
    // Listing is a read: no quota.
    expect(await h.quotaUsed(account.id)).toBe(0);
  });
});

describe('document 000: DELETE /v1/tasks/:id', () => {
  it.each([
    ['the access_key query parameter', (key: string) => ({ query: `?access_key=${key}`, args: [] as string[] })],
    ['the X-Access-Key header', (key: string) => ({ query: '', args: ['-H', `X-Access-Key: ${key}`] })],
    [
      'a JSON body {"access_key": …}',
      (key: string) => ({
        query: '',
        args: ['-H', 'content-type: application/json', '-d', JSON.stringify({ access_key: key })],
      }),
    ],
  ])('with the key in %s: 204, no body, the task gone, one quota unit consumed', async (_, place) => {
    const account = await h.account();
    const id = await h.task(account.id);
    const kept = await h.task(account.id);
    const { query, args } = place(account.key);
    const res = await curl(url(`/v1/tasks/${id}${query}`), ['-X', 'DELETE', ...args]);
    expect(res.status).toBe(204);
    expect(res.body).toBe('');
    expect(await taskRow(h, id)).toBeNull();
    expect(await taskRow(h, kept)).not.toBeNull();
    expect(await h.quotaUsed(account.id)).toBe(1);
    expectRateLimitHeaders(res.headers, 59);

    // Again: the task is gone, 404 in the document's error shape, no quota.
    const again = await curl(url(`/v1/tasks/${id}${query}`), ['-X', 'DELETE', ...args]);
    expect(again.status).toBe(404);
    expect(again.headers.get('content-type')).toMatch(JSON_TYPE);
    const body = parsed(again.body) as Record<string, unknown>;
    expect(body).toEqual({
      code: 404,
      type: 'Not Found',
      details: 'The requested resource was not found.',
      message: `Task "${id}" was not found.`,
    });
    expect(Object.keys(body)).toEqual(['code', 'type', 'details', 'message']);
    expect(await h.quotaUsed(account.id)).toBe(1);
  });
});

describe('document 002: POST /schedule/:apiKey/:scheduleId/cancel', () => {
  const DOC_ID = 'SC-1234-1234-1234-1234-1234-1234';
  const cancel = (key: string, id: string) =>
    curl(url(`/schedule/${key}/${id}/cancel`), ['-X', 'POST', '-H', 'content-type: application/json', '-d', '{}']);

  it('cancels: the document’s success body; again: 7070 with CANCELLED/CANCELLED; an unknown id: NON-EXISTING', async () => {
    expect(DOC_ID).toHaveLength(32);
    const account = await h.account();
    await h.task(account.id, { id: DOC_ID });

    const first = await cancel(account.key, DOC_ID);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(JSON_TYPE);
    const success = { success: true, scheduleId: DOC_ID, oldStatus: 'ACTIVE', newStatus: 'CANCELLED' };
    expect(parsed(first.body)).toEqual(success);
    expect(first.body).toBe(JSON.stringify(success));
    expect((await taskRow(h, DOC_ID))?.status).toBe('CANCELLED');
    expect(await h.quotaUsed(account.id)).toBe(1);
    expectRateLimitHeaders(first.headers, 59);

    const second = await cancel(account.key, DOC_ID);
    expect(second.status).toBe(200);
    const refused = {
      success: false,
      scheduleId: DOC_ID,
      oldStatus: 'CANCELLED',
      newStatus: 'CANCELLED',
      errorMessage: 'The status of the schedule is not valid for the requested operation',
      errorCode: 7070,
    };
    expect(parsed(second.body)).toEqual(refused);
    expect(second.body).toBe(JSON.stringify(refused));
    expect(await h.quotaUsed(account.id)).toBe(1);

    const unknown = await cancel(account.key, 'SC-0000-0000-0000-0000-0000-0000');
    expect(unknown.status).toBe(200);
    const missing = {
      ...refused,
      scheduleId: 'SC-0000-0000-0000-0000-0000-0000',
      oldStatus: 'NON-EXISTING',
      newStatus: 'NON-EXISTING',
    };
    expect(parsed(unknown.body)).toEqual(missing);
    expect(unknown.body).toBe(JSON.stringify(missing));
    expect(await h.quotaUsed(account.id)).toBe(1);
  });

  it('path limits: an apiKey over 50 characters or a scheduleId over 32 is a 400, before anything else', async () => {
    const account = await h.account();
    await h.task(account.id, { id: 'limit-task' });

    const longKey = `${account.key}${'k'.repeat(51 - account.key.length)}`;
    expect(longKey).toHaveLength(51);
    const badKey = await cancel(longKey, 'limit-task');
    expect(badKey.status).toBe(400);
    expect(parsed(badKey.body)).toEqual({
      success: false,
      errorCode: 1000,
      errorMessage: 'Invalid request',
      details: 'apiKey must be at most 50 characters.',
    });
    expect(badKey.body).not.toContain(longKey);

    const longId = 'S'.repeat(33);
    const badId = await cancel(account.key, longId);
    expect(badId.status).toBe(400);
    expect(parsed(badId.body)).toEqual({
      success: false,
      errorCode: 1000,
      errorMessage: 'Invalid request',
      details: 'scheduleId must be at most 32 characters.',
    });
    expect(badId.body).not.toContain(longId);
    expect(badId.body).not.toContain(account.key);

    // 50 characters is a key (unknown here: 401), 32 an id (NON-EXISTING).
    const fifty = await cancel('k'.repeat(50), 'limit-task');
    expect(fifty.status).toBe(401);
    expect((parsed(fifty.body) as { errorCode: number }).errorCode).toBe(1001);
    const thirtyTwo = await cancel(account.key, 'S'.repeat(32));
    expect(thirtyTwo.status).toBe(200);
    expect(parsed(thirtyTwo.body)).toMatchObject({ success: false, oldStatus: 'NON-EXISTING', errorCode: 7070 });

    // Nothing changed, no quota consumed.
    expect((await taskRow(h, 'limit-task'))?.status).toBe('ACTIVE');
    expect(await h.quotaUsed(account.id)).toBe(0);
  });
});

describe('document 003: POST /v2/:project_id/scheduled-tasks/batch-delete', () => {
  const batch = (project: string, key: string, body: unknown) =>
    curl(url(`/v2/${project}/scheduled-tasks/batch-delete`), [
      '-X',
      'POST',
      '-H',
      `X-Auth-Token: ${key}`,
      '-H',
      'content-type: application/json',
      '-d',
      JSON.stringify(body),
    ]);

  it('deletes every task: 200 with an empty body, one quota unit per task', async () => {
    const account = await h.account();
    const ids = await h.tasks(account.id, [{}, {}, {}]);
    const kept = await h.task(account.id);
    const res = await batch('0605767e8a00d5562f7bc00b9a1e0d26', account.key, { task_ids: ids });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    for (const id of ids) expect(await taskRow(h, id)).toBeNull();
    expect(await taskRow(h, kept)).not.toBeNull();
    expect(await h.quotaUsed(account.id)).toBe(3);
    expectRateLimitHeaders(res.headers, 59);
  });

  it('a missing and an in-progress id: 400 naming both, and nothing deleted', async () => {
    const account = await h.account();
    const idle = await h.task(account.id, { id: 'batch-idle' });
    const running = await h.task(account.id, { id: 'batch-running', inProgress: true });
    const res = await batch('my-project', account.key, { task_ids: [idle, 'batch-missing', running] });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(JSON_TYPE);
    const notFound = { error_code: 'WKS.0404', error_msg: 'The scheduled task does not exist.' };
    const inProgress = { error_code: 'WKS.0409', error_msg: 'The scheduled task is running and cannot be deleted.' };
    const body = parsed(res.body) as Record<string, unknown>;
    expect(body).toEqual({
      error_code: 'WKS.0400',
      error_msg: 'Nothing was deleted: 2 of 3 tasks could not be deleted.',
      error_detail:
        '"batch-missing": WKS.0404 The scheduled task does not exist.; ' +
        '"batch-running": WKS.0409 The scheduled task is running and cannot be deleted.',
      failed_tasks: [
        { task_id: 'batch-missing', ...notFound },
        { task_id: 'batch-running', ...inProgress },
      ],
    });
    expect(Object.keys(body)).toEqual(['error_code', 'error_msg', 'error_detail', 'failed_tasks']);
    // Atomic: the idle task too is still there, and no quota was consumed.
    expect(await taskRow(h, idle)).toMatchObject({ id: idle, status: 'ACTIVE', inProgress: false });
    expect(await taskRow(h, running)).toMatchObject({ id: running, inProgress: true });
    expect(await h.quotaUsed(account.id)).toBe(0);
  });
});
