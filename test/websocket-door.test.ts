// The WebSocket door and the subscription guards, against what a fresh-eyes
// review found: upgrades that crashed the process, a reused operation id that
// leaked its stream, errors that echoed a client's input in full, a thrown
// error that closed the whole connection, an Origin not checked; and, over
// SSE, multipart/mixed left open, a selection costlier than an event may be,
// and `ids: []`.
import { connect } from 'node:net';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TaskEventsDocument } from '../src/generated/client/graphql.js';
import { createWebSocketDoor, type WebSocketDoor } from '../src/http/websocket.js';
import { createLogger } from '../src/logger.js';
import { createHarness, type Harness } from './helpers/harness.js';
import { type Listening, listen } from './helpers/socket.js';
import { until } from './helpers/until.js';

const SUBSCRIPTION = print(TaskEventsDocument);

let h: Harness;
let door: WebSocketDoor;
let server: Listening;

beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 10_000 } });
  door = createWebSocketDoor(h.app, createLogger('silent'), { corsOrigins: ['https://app.example.com'] });
  server = await listen(h.app, door);
});
afterAll(async () => {
  h?.deps.subscriptions.endAll();
  await door?.close();
  await server?.close();
  await h?.close();
});

/** Writes raw bytes, half-closes nothing, then resets the connection; the server's answer so far. */
function rawUpgrade(requestTarget: string, extra = ''): Promise<string> {
  const { port } = new URL(server.origin);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), allowHalfOpen: true });
    let answer = '';
    socket.on('data', (d) => {
      answer += String(d);
    });
    socket.on('error', () => {});
    socket.on('connect', () => {
      socket.write(
        `GET ${requestTarget} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`,
      );
      setTimeout(() => {
        socket.resetAndDestroy();
        resolve(answer);
      }, 100);
    });
  });
}

async function serverAlive(): Promise<void> {
  const res = await fetch(`${server.origin}/health`);
  expect(res.status).toBe(200);
}

function wsClient(key: string | undefined, extra: { origin?: string } = {}): Client {
  return createClient({
    url: server.wsUrl,
    connectionParams: key ? { 'x-access-key': key } : {},
    webSocketImpl: class extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, extra.origin ? { origin: extra.origin } : {});
      }
    },
    retryAttempts: 0,
  });
}

/** One operation's results, and how it ended. */
function run(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const results: unknown[] = [];
  let error: unknown;
  let completed = false;
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (r) => void results.push(r),
      error: (e) => {
        error = e;
      },
      complete: () => {
        completed = true;
      },
    },
  );
  return {
    results,
    unsubscribe,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
  };
}

describe('upgrades the process survives', () => {
  it('an upgrade to another path, then a reset: 404, and the server stays up', async () => {
    expect(await rawUpgrade('/nope')).toMatch(/^HTTP\/1\.1 404/);
    expect(await rawUpgrade('/graphql/')).toMatch(/^HTTP\/1\.1 404/);
    await serverAlive();
  });

  it('an upgrade with a request-target no URL parser accepts: refused, and the server stays up', async () => {
    await rawUpgrade('http://[');
    await rawUpgrade('//');
    await serverAlive();
  });

  it('an upgrade from a browser origin CORS_ORIGINS does not allow: 403; an allowed one connects', async () => {
    expect(await rawUpgrade('/graphql', 'Origin: https://evil.example\r\n')).toMatch(/^HTTP\/1\.1 403/);
    const allowed = await rawUpgrade(
      '/graphql',
      'Origin: https://app.example.com\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n',
    );
    expect(allowed).toMatch(/^HTTP\/1\.1 101/);
    // A client that sends no Origin (not a browser) is not refused by it.
    expect(await rawUpgrade('/graphql', 'Sec-WebSocket-Protocol: graphql-transport-ws\r\n')).toMatch(/^HTTP\/1\.1 101/);
    await serverAlive();
  });
});

describe('operations over the socket', () => {
  it('an id reused before its operation finished is refused (4409); nothing stays open once the socket closes', async () => {
    const a = await h.account();
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    const messages: { type: string; id?: string }[] = [];
    const closes: number[] = [];
    socket.on('message', (d) => messages.push(JSON.parse(String(d))));
    socket.on('close', (code) => closes.push(code));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { 'X-Access-Key': a.key } }));
    await until('ack', () => messages.some((m) => m.type === 'connection_ack'));
    const subscribe = () =>
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION } }));
    // At once: the first is still being set up when the client completes it and reuses its id.
    subscribe();
    socket.send(JSON.stringify({ id: '1', type: 'complete' }));
    subscribe();
    await until('the duplicate refused', () => closes.length > 0);
    expect(closes).toEqual([4409]);
    await until(
      `everything released (open ${h.deps.subscriptions.count(a.id)}, listeners ${h.deps.events.listenerCount(a.id)})`,
      () => h.deps.subscriptions.count(a.id) === 0 && h.deps.events.listenerCount(a.id) === 0,
    );
  });

  it("a client's long mistake comes back shortened, as over HTTP; the connection stays usable", async () => {
    const a = await h.account();
    const client = wsClient(a.key);
    try {
      const field = 'a'.repeat(5_000);
      const bad = run(client, `{ ${field} }`);
      await until('the refusal', () => bad.error !== undefined);
      const errors = bad.error as { message: string }[];
      expect(errors[0]!.message.length).toBeLessThan(300);
      expect(JSON.stringify(errors).length).toBeLessThan(1_000);
      expect(JSON.stringify(errors)).not.toMatch(/"http"/);
      const ok = run(client, '{ viewer { __typename } }');
      await until('the query', () => ok.completed);
      expect(ok.results).toEqual([{ data: { viewer: { __typename: 'Account' } } }]);
    } finally {
      await client.dispose();
    }
  });

  it('a Host header no URL accepts does not break the connection: operations still answer', async () => {
    const a = await h.account();
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', { headers: { host: 'a b' } });
    const messages: { type: string; id?: string; payload?: unknown }[] = [];
    const closes: number[] = [];
    socket.on('message', (d) => messages.push(JSON.parse(String(d))));
    socket.on('close', (code) => closes.push(code));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { 'X-Access-Key': a.key } }));
    await until('ack', () => messages.some((m) => m.type === 'connection_ack'));
    socket.send(JSON.stringify({ id: 'q', type: 'subscribe', payload: { query: '{ viewer { __typename } }' } }));
    await until('the answer', () => messages.some((m) => m.type === 'complete' && m.id === 'q'));
    expect(messages.find((m) => m.type === 'next')?.payload).toEqual({ data: { viewer: { __typename: 'Account' } } });
    expect(closes).toEqual([]);
    socket.close();
  });
});

describe('subscription guards (SSE)', () => {
  async function sse(key: string, body: object, accept = 'text/event-stream'): Promise<Response> {
    return h.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, 'x-access-key': key },
      body: JSON.stringify(body),
    });
  }

  it('Accept: multipart/mixed (yoga does not stream subscriptions in it): 406 before anything opens', async () => {
    const a = await h.account();
    for (const accept of ['multipart/mixed', 'multipart/*', 'application/json, multipart/mixed']) {
      const res = await sse(a.key, { query: SUBSCRIPTION }, accept);
      expect({ accept, status: res.status }).toEqual({ accept, status: 406 });
      await res.text();
    }
    expect(h.deps.subscriptions.count(a.id)).toBe(0);
    expect(h.deps.events.listenerCount(a.id)).toBe(0);
  });

  it('a selection costlier than an event may be is refused up front; one nextRuns(count: 100) is fine', async () => {
    const a = await h.account();
    const heavy = `subscription { taskEvents { ... on TaskChanged { task {
      one: nextRuns(count: 100) { at } two: nextRuns(count: 100) { at } } } } }`;
    const refused = await sse(a.key, { query: heavy });
    const text = await refused.text();
    expect(text).toMatch(/at most 100 per event of a subscription/);
    expect(h.deps.subscriptions.count(a.id)).toBe(0);
    const history = `subscription { taskEvents { ... on TaskChanged { task { runHistory(first: 51) { edges { cursor } } } } } }`;
    expect(await (await sse(a.key, { query: history })).text()).toMatch(/at most 50 per event of a subscription/);

    const fine = `subscription { taskEvents { ... on TaskChanged { task { nextRuns(count: 100) { at } } } } }`;
    const res = await sse(a.key, { query: fine });
    expect(res.status).toBe(200);
    await until('the subscription live', () => h.deps.subscriptions.count(a.id) === 1);
    // (yoga's stream starts on the first read: read, then leave.)
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await until('released', () => h.deps.subscriptions.count(a.id) === 0);
  });

  it('ids: [] is a ValidationError (omit ids for every task), not every task', async () => {
    const a = await h.account();
    const res = await sse(a.key, { query: SUBSCRIPTION, variables: { ids: [] } });
    const text = await res.text();
    expect(text).toMatch(/"__typename":"ValidationError"/);
    expect(text).toMatch(/ids must not be empty/);
    expect(text).toMatch(/event: complete/);
    expect(h.deps.subscriptions.count(a.id)).toBe(0);
  });
});
