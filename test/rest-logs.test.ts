// What the logs say of REST calls: the connector's key travels in its path
// (`/schedule/:apiKey/…`), and a log must never hold a key. Through the same
// request wrapper as `npm start` (src/http/request-context.ts) on a real socket.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggablePath, withRequestContext } from '../src/http/request-context.js';
import { createLogger } from '../src/logger.js';
import { createHarness, type Harness } from './helpers/harness.js';
import { type Listening, listen } from './helpers/socket.js';

let h: Harness;
let server: Listening;
const lines: string[] = [];

beforeAll(async () => {
  h = await createHarness();
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  server = await listen(withRequestContext(h.app, logger));
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
});
