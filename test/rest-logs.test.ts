// What the logs say of REST calls: the connector's key travels in its path
// (`/schedule/:apiKey/…`), and a log must never hold a key, wherever a
// client's dot-segments, doubled slashes or parameters put it, nor anything
// shaped like a key. Through the same request wrapper as `npm start`
// (src/http/request-context.ts) on a real socket; paths a URL library would
// normalize are sent as raw bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggablePath } from '../src/http/request-context.js';
import { createHarness, type Harness } from './helpers/harness.js';
import { rawHttp } from './helpers/rest.js';
import { type Listening, listenAsStarted } from './helpers/socket.js';

let h: Harness;
let server: Listening;
const lines: string[] = [];

beforeAll(async () => {
  h = await createHarness();
  server = await listenAsStarted(h.app, lines);
});
afterAll(async () => {
  await server.close();
  await h.close();
});

describe('REST request logs', () => {
  it('log the connector call with its path, the key replaced', async () => {
    const a = await h.account();
    const id = await h.task(a.id);
    const res = await fetch(`${server.origin}/schedule/${a.key}/${id}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'rest-log-1' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    await res.text();
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.requestId === 'rest-log-1' && l.msg === 'request');
    expect(line).toMatchObject({ method: 'POST', path: `/schedule/[key]/${id}/cancel`, status: 200 });
    expect(lines.join('')).not.toContain(a.key);
  });

  it('never log a key given in the path, even refused or malformed', async () => {
    const secret = 'tsk_not-a-real-key-but-secret-all-the-same';
    for (const path of [`/schedule/${secret}/x/cancel`, `/schedule/${secret}`, `/schedule/${secret}/x/cancel?a=b`]) {
      const res = await fetch(`${server.origin}${path}`, { method: 'POST', body: '{}' });
      await res.text();
    }
    expect(lines.join('')).not.toContain(secret);
  });

  it('loggablePath keeps other paths and drops the query string', () => {
    expect(loggablePath('/v1/tasks/1?access_key=k')).toBe('/v1/tasks/1');
    expect(loggablePath('/schedule/k/1/cancel')).toBe('/schedule/[key]/1/cancel');
    expect(loggablePath('/graphql')).toBe('/graphql');
  });

  it('loggablePath hides the segment after any schedule… segment, and anything shaped like a key', () => {
    // The path as routing sees it: dot-segments resolved, backslashes as slashes.
    expect(loggablePath('/./schedule/k/1/cancel')).toBe('/schedule/[key]/1/cancel');
    expect(loggablePath('//schedule/k/1/cancel')).toBe('//schedule/[key]/1/cancel');
    expect(loggablePath('/x/../schedule/k/1/cancel')).toBe('/schedule/[key]/1/cancel');
    expect(loggablePath('/%2e/schedule/k/1/cancel')).toBe('/schedule/[key]/1/cancel');
    expect(loggablePath('/schedule;x/k/1/cancel')).toBe('/schedule;x/[key]/1/cancel');
    expect(loggablePath('/schedule\\k/1/cancel')).toBe('/schedule/[key]/1/cancel');
    expect(loggablePath('/Schedul%65/k/1/cancel')).toBe('/Schedul%65/[key]/1/cancel');
    expect(loggablePath('/v1/tasks/tsk%5Fabcdefgh12')).toBe('/v1/tasks/[key]');
    // The workspace's `scheduled-tasks` is not the connector's `schedule`.
    expect(loggablePath('/v2/p/scheduled-tasks/batch-delete')).toBe('/v2/p/scheduled-tasks/batch-delete');
    expect(loggablePath('/v1/tasks/tsk_abcdefgh_-12')).toBe('/v1/tasks/[key]');
    expect(loggablePath('/other/a-tsk_abcdefgh12345/b')).toBe('/other/[key]/b');
    // Not keys: a short tsk_ and the words around them stay.
    expect(loggablePath('/v1/tasks/tsk_abc')).toBe('/v1/tasks/tsk_abc');
  });

  /** Sends `method path` as raw bytes (no URL library normalizes it) and reads the answer. */
  async function raw(method: string, path: string, requestId: string) {
    const body = method === 'POST' ? '{}' : '';
    return rawHttp(
      server.origin,
      `${method} ${path} HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${requestId}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  const logged = (requestId: string) =>
    lines.map((l) => JSON.parse(l)).find((l) => l.requestId === requestId && l.msg === 'request');

  it('never log the key after a schedule segment that dot-segments, doubled slashes or parameters move', async () => {
    const a = await h.account();
    // Not shaped like a key: only its place after `schedule` hides it.
    const plain = 'plain-secret-0123456789';
    // Each path, and whether the connector door serves it once the URL's dot-segments are resolved.
    const variants: [string, (key: string, id: string) => string, 'routed' | 'connector 404' | 'not a door'][] = [
      ['/./', (k, id) => `/./schedule/${k}/${id}/cancel`, 'routed'],
      ['//', (k, id) => `//schedule/${k}/${id}/cancel`, 'not a door'],
      ['/x/../', (k, id) => `/x/../schedule/${k}/${id}/cancel`, 'routed'],
      ['/%2e/', (k, id) => `/%2e/schedule/${k}/${id}/cancel`, 'routed'],
      ['schedule;x', (k, id) => `/schedule;x/${k}/${id}/cancel`, 'not a door'],
      ['no schedule id', (k) => `/./schedule/${k}`, 'connector 404'],
      ['a query string', (k, id) => `/x/../schedule/${k}/${id}/cancel?access_key=${k}`, 'routed'],
    ];
    let n = 0;
    for (const key of [a.key, plain]) {
      for (const [name, pathOf, served] of variants) {
        const id = await h.task(a.id);
        const path = pathOf(key, id);
        const requestId = `rest-log-variant-${++n}`;
        const res = await raw('POST', path, requestId);
        const what = `${name} with ${key === plain ? 'a plain secret' : 'the key'}`;
        if (served === 'routed') {
          // The real key cancels the task; the plain secret is no key (401).
          if (key === a.key) {
            expect({ status: res.status, body: JSON.parse(res.body) }, what).toEqual({
              status: 200,
              body: { success: true, scheduleId: id, oldStatus: 'ACTIVE', newStatus: 'CANCELLED' },
            });
          } else expect(res.status, what).toBe(401);
        } else if (served === 'connector 404') {
          expect({ status: res.status, body: JSON.parse(res.body) }, what).toEqual({
            status: 404,
            body: { success: false, errorCode: 1000, errorMessage: 'Not found', details: 'No such endpoint.' },
          });
        } else expect({ status: res.status, body: res.body }, what).toEqual({ status: 404, body: '' });
        expect(logged(requestId), what).toMatchObject({
          method: 'POST',
          // As routing saw it: dot-segments resolved.
          path: new URL(`http://x${path.split('?')[0]!}`).pathname.replace(key, '[key]'),
          status: res.status,
        });
      }
    }
    expect(lines.join('')).not.toContain(a.key);
    expect(lines.join('')).not.toContain(plain);
  });

  it('never log the key after a schedule segment that a backslash (a slash to the URL parser) delimits', async () => {
    const plain = 'plain-secret-backslash-42';
    let n = 0;
    for (const path of [`/x/..\\schedule/${plain}/s1/cancel`, `/schedule\\${plain}/s1/cancel`]) {
      const requestId = `rest-log-backslash-${++n}`;
      const res = await raw('POST', path, requestId);
      // The connector door served it: the secret was taken as its key.
      expect({ status: res.status, body: JSON.parse(res.body) }, path).toEqual({
        status: 401,
        body: {
          success: false,
          errorCode: 1001,
          errorMessage: 'Invalid API key',
          details: 'Unknown or revoked API key.',
        },
      });
      expect(logged(requestId), path).toMatchObject({ method: 'POST', status: 401 });
    }
    expect(lines.join('')).not.toContain(plain);
  });

  it('never log anything shaped like a key, wherever it is in the path', async () => {
    const a = await h.account();
    let n = 0;
    for (const path of [`/v1/tasks/${a.key}`, `/other/${a.key}/x`, `/graphql/${a.key}`, `/api/${a.key}`]) {
      const requestId = `rest-log-shaped-${++n}`;
      await raw('GET', path, requestId);
      expect(logged(requestId)?.path).toBe(path.replace(a.key, '[key]'));
    }
    expect(lines.join('')).not.toContain(a.key);
  });
});
