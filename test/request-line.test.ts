// The request line and Host header as `npm start` takes them (the request
// wrapper of src/http/request-context.ts), over a raw TCP socket: bytes no
// HTTP client library would send. The Fetch adapter builds the request's URL
// as `http://<Host><request-target>`, so a Host such as `h/v1` once moved the
// routed path, and an absolute-form target or a bad Host threw inside the
// adapter (a 500 with a stack). Now an absolute-form target is served as its
// origin form, and anything else that is not a plain Host or an origin-form
// target is a 400 before anything reads the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './helpers/harness.js';
import { type RawAnswer, rawHttp } from './helpers/rest.js';
import { type Listening, listenAsStarted } from './helpers/socket.js';

let h: Harness;
let server: Listening;
let port: string;
const lines: string[] = [];

beforeAll(async () => {
  h = await createHarness();
  server = await listenAsStarted(h.app, lines);
  port = new URL(server.origin).port;
});
afterAll(async () => {
  await server?.close();
  await h?.close();
});

/** Sends a request line and header lines (each without its CRLF) and reads the answer. */
function send(requestLine: string, headers: string[], body = ''): Promise<RawAnswer> {
  const head = [requestLine, ...headers, ...(body ? [`Content-Length: ${Buffer.byteLength(body)}`] : [])];
  return rawHttp(server.origin, `${head.join('\r\n')}\r\n\r\n${body}`);
}

/** Every answer of this suite, for the no-leak check at the end. */
const bodies: string[] = [];
async function sent(requestLine: string, headers: string[], body = ''): Promise<RawAnswer> {
  const answer = await send(requestLine, headers, body);
  bodies.push(answer.body);
  return answer;
}

/** The wrapper's refusal: 400, JSON, the connection closed, and why. */
function expectRefused(a: RawAnswer, message: string) {
  expect({
    status: a.status,
    type: a.headers['content-type'],
    connection: a.headers.connection,
    body: a.body,
  }).toEqual({
    status: 400,
    type: 'application/json; charset=utf-8',
    connection: 'close',
    body: JSON.stringify({ errors: [{ message }] }),
  });
  // The request id is on refusals too.
  expect(a.headers['x-request-id']).toMatch(/^[\w.:-]+$/);
}

const refusedLog = (requestId: string) =>
  lines.map((l) => JSON.parse(l)).filter((l) => l.requestId === requestId && l.msg === 'request refused');

describe('an absolute-form request target (RFC 9112: servers must accept it)', () => {
  it('is served as its origin form: 200 and the right task', async () => {
    const account = await h.account();
    const id = await h.task(account.id, { name: 'absolute-form' });
    await h.task(account.id, { name: 'another' });
    const a = await sent(`GET http://127.0.0.1:${port}/v1/tasks/${id} HTTP/1.1`, [
      `Host: 127.0.0.1:${port}`,
      `X-Access-Key: ${account.key}`,
    ]);
    expect(a.status, a.body).toBe(200);
    expect(JSON.parse(a.body)).toMatchObject({ id, name: 'absolute-form' });
  });

  it('keeps its query string (the key in access_key) and its authority replaces the Host header', async () => {
    const account = await h.account();
    const id = await h.task(account.id, { name: 'absolute-form-query' });
    const a = await sent(`GET http://api.example.com/v1/tasks/${id}?access_key=${account.key} HTTP/1.1`, [
      'Host: h/other',
    ]);
    expect(a.status, a.body).toBe(200);
    expect(JSON.parse(a.body)).toMatchObject({ id, name: 'absolute-form-query' });
  });

  it.each([
    ['an asterisk (OPTIONS *)', 'OPTIONS * HTTP/1.1', 'Unsupported request target.'],
    ['another scheme', 'GET ftp://x/v1/tasks HTTP/1.1', 'Unsupported request target.'],
    ['a host with a space', 'GET http://a%20b/v1/tasks HTTP/1.1', 'Malformed request target.'],
    ['a port over 65535', 'GET http://x:99999/v1/tasks HTTP/1.1', 'Malformed request target.'],
  ])('neither origin-form nor absolute-form http(s) — %s — is a 400', async (_, line, message) => {
    const a = await sent(line, ['Host: x', 'X-Request-Id: request-line-target']);
    expectRefused(a, message);
  });
});

describe('a malformed Host header', () => {
  it('h/v1 is a 400 and does NOT route to /v1/…: the task neither read nor deleted, nothing counted', async () => {
    const account = await h.account();
    const id = await h.task(account.id);
    const before = await h.db.read.task.findUnique({ where: { id } });
    for (const method of ['GET', 'DELETE']) {
      const requestId = `request-line-host-${method}`;
      const a = await sent(`${method} /tasks/${id} HTTP/1.1`, [
        'Host: h/v1',
        `X-Access-Key: ${account.key}`,
        `X-Request-Id: ${requestId}`,
      ]);
      expectRefused(a, 'Malformed Host header.');
      expect(a.body).not.toContain(id);
      expect(a.headers['x-request-id']).toBe(requestId);
      expect(refusedLog(requestId)).toEqual([
        expect.objectContaining({ method, status: 400, reason: 'Malformed Host header.' }),
      ]);
    }
    expect(await h.db.read.task.findUnique({ where: { id } })).toEqual(before);
    expect(await h.quotaUsed(account.id)).toBe(0);
    // The same key in a well-formed request: its first counted operation.
    const ok = await sent(`GET /v1/tasks/${id} HTTP/1.1`, ['Host: h', `X-Access-Key: ${account.key}`]);
    expect([ok.status, ok.headers['ratelimit-remaining']]).toEqual([200, '59']);
  });

  it.each([
    ['a b', 'a space'],
    ['x:99999', 'a port over 65535'],
    ['h/v1', 'a path'],
    ['x@y', 'user information'],
    ['x?y', 'a query'],
    ['x#y', 'a fragment'],
    ['', 'nothing'],
  ])('Host: %s (%s) is a 400', async (host) => {
    const a = await sent('GET /health HTTP/1.1', [`Host: ${host}`]);
    expectRefused(a, 'Malformed Host header.');
  });

  it.each(['localhost', '127.0.0.1:8080', 'x:65535', '[::1]:80', 'api.example.com.', 'my_host-1.internal'])(
    'Host: %s is well-formed: /health answers 200',
    async (host) => {
      const a = await sent('GET /health HTTP/1.1', [`Host: ${host}`]);
      expect(a.status).toBe(200);
    },
  );
});

describe('normal requests through the same wrapper', () => {
  it('/graphql and /health still work', async () => {
    const account = await h.account();
    const health = await sent('GET /health HTTP/1.1', [`Host: 127.0.0.1:${port}`]);
    expect(health.status).toBe(200);
    const graphql = await sent(
      'POST /graphql HTTP/1.1',
      [
        `Host: 127.0.0.1:${port}`,
        'Content-Type: application/json',
        'Accept: application/graphql-response+json',
        `X-Access-Key: ${account.key}`,
      ],
      JSON.stringify({ query: '{ viewer { __typename ... on Account { id } } }' }),
    );
    expect({ status: graphql.status, body: JSON.parse(graphql.body) }).toEqual({
      status: 200,
      body: { data: { viewer: { __typename: 'Account', id: account.id } } },
    });
  });

  it('no answer of this suite carried a stack trace or a file path', () => {
    expect(bodies.length).toBeGreaterThan(20);
    for (const body of bodies) {
      for (const leak of ['    at ', '/src/', '/work/', 'node_modules', '.ts:', 'Error:', 'TypeError']) {
        expect(body, body).not.toContain(leak);
      }
    }
  });
});
