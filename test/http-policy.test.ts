// What the HTTP door tells browsers (CORS) and operators (logs).
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { yogaLogger } from '../src/http/error-log.js';
import { createLogger } from '../src/logger.js';
import { createHarness, type Harness } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('CORS', () => {
  const request = (app: ReturnType<typeof createApp>, origin: string, init: RequestInit = {}) =>
    app.fetch('http://localhost/graphql', {
      method: 'POST',
      ...init,
      headers: { origin, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
      body: init.method === 'OPTIONS' ? undefined : JSON.stringify({ query: '{ __typename }' }),
    });
  const preflight = (app: ReturnType<typeof createApp>, origin: string) =>
    request(app, origin, {
      method: 'OPTIONS',
      headers: {
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-access-key, traceparent, apollographql-client-name',
      },
    });

  it('by default allows any origin, never with credentials (keys travel in headers, not cookies)', async () => {
    const res = await request(h.app, 'https://evil.example');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://evil.example');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    // A browser client can read the rate-limit headers and the request id.
    expect(res.headers.get('access-control-expose-headers')).toBe(
      'RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy, Retry-After, X-Request-Id',
    );
    const pre = await preflight(h.app, 'https://evil.example');
    expect(pre.status).toBe(204);
    // Whatever headers the page asks to send (tracing, Apollo's), safe without credentials.
    expect(pre.headers.get('access-control-allow-headers')).toBe(
      'content-type, x-access-key, traceparent, apollographql-client-name',
    );
    // DELETE: the screenshot Task API door's DELETE /v1/tasks/:id (src/rest/).
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('with CORS_ORIGINS allows exactly those origins, and gives others no CORS headers at all', async () => {
    const app = createApp({
      deps: h.deps,
      logger: createLogger('silent'),
      graphiql: false,
      corsOrigins: loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins,
    });
    for (const origin of ['https://app.example.com', 'http://localhost:5173']) {
      const res = await request(app, origin);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      // The answer depends on Origin: no shared cache may hand it to another origin.
      expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect((await preflight(app, origin)).headers.get('access-control-allow-origin')).toBe(origin);
    }
    // Not `null` either: a sandboxed page's origin is "null".
    for (const origin of ['https://evil.example', 'null', 'https://app.example.com.evil.example']) {
      const res = await request(app, origin);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
      expect((await preflight(app, origin)).headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('refuses a CORS_ORIGINS that is not a list of origins, naming the variable', () => {
    expect(loadConfig({}).corsOrigins).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    for (const bad of ['app.example.com', 'https://app.example.com/', 'https://a.example/path', 'ftp//x']) {
      expect(() => loadConfig({ CORS_ORIGINS: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS/);
    }
  });
});

describe('logs', () => {
  interface Line {
    level: number;
    msg: string;
    requestId?: string;
    err?: { stack?: string };
    errors?: string[];
  }
  let lines: Line[];
  let app: ReturnType<typeof createApp>;
  beforeAll(() => {
    lines = [];
    const sink = new Writable({
      write(chunk, _e, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
        done();
      },
    });
    app = createApp({ deps: h.deps, logger: createLogger('info', sink), graphiql: false });
  });

  const post = (body: string, requestId: string) =>
    app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        'x-request-id': requestId,
      },
      body,
    });

  it.each([
    ['malformed JSON', '{"query": "{ viewer', /invalid JSON/],
    ['a GraphQL syntax error', JSON.stringify({ query: '{ task(id: "x" { id } }' }), /Syntax Error/],
    ['an unknown field', JSON.stringify({ query: '{ nope }' }), /Cannot query field "nope"/],
    [
      'a bad variable',
      JSON.stringify({
        query: 'query Q($first: Int) { tasks(first: $first) { __typename } }',
        variables: { first: 'x'.repeat(100_000) },
      }),
      /^Variable "\$first" got invalid value "x{32}…"/,
    ],
    ['a refused document', JSON.stringify({ query: `{ ${'a: __typename '.repeat(101)} }` }), /Aliases limit/],
  ])('logs %s once, at info, without a stack', async (_, body, message) => {
    const requestId = `client-${lines.length}`;
    const res = await post(body, requestId);
    expect(res.status).toBe(400);
    const mine = lines.filter((l) => l.requestId === requestId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ level: 30, msg: 'client error' });
    expect(mine[0]!.errors![0]).toMatch(message);
    expect(JSON.stringify(mine[0])).not.toMatch(/stack| {4}at /);
    // And the client's answer quotes only a prefix of what it sent.
    expect((await res.text()).length).toBeLessThan(1_000);
  });

  it('logs a failure yoga masks outside execution once, with its stack (yoga reports each twice)', () => {
    const seen: Line[] = [];
    const log = yogaLogger(
      createLogger(
        'info',
        new Writable({
          write(chunk, _e, done) {
            seen.push(JSON.parse(String(chunk)) as Line);
            done();
          },
        }),
      ),
    );
    const failure = new Error('boom outside execution');
    log.error(failure);
    log.error(failure);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ level: 50, msg: 'unexpected error (masked)' });
    expect(seen[0]!.err!.stack).toContain('boom outside execution');
  });

  it('logs an unexpected failure once, at error, with its stack and request id', async () => {
    const broken = await createHarness();
    try {
      const { key } = await broken.account();
      await broken.db.transaction(async (tx) => {
        // TaskRun first: PostgreSQL refuses to drop a table others reference.
        await tx.$executeRawUnsafe('DROP TABLE "TaskRun"');
        await tx.$executeRawUnsafe('DROP TABLE "Task"');
      });
      const before = lines.length;
      const brokenApp = createApp({
        deps: broken.deps,
        logger: createLogger(
          'info',
          new Writable({
            write(chunk, _e, done) {
              for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
              done();
            },
          }),
        ),
        graphiql: false,
      });
      const res = await brokenApp.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-access-key': key, 'x-request-id': 'broken-1' },
        body: JSON.stringify({ query: '{ task(id: "x") { __typename } }' }),
      });
      expect(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe('Unexpected error.');
      const logged = lines.slice(before);
      expect(logged.filter((l) => l.level >= 50)).toHaveLength(1);
      const [line] = logged.filter((l) => l.level >= 50);
      expect(line).toMatchObject({ msg: 'unexpected error (masked)', requestId: 'broken-1' });
      expect(line!.err!.stack).toMatch(/no such table|does not exist/);
      // Not also listed as a client error.
      expect(logged.filter((l) => l.msg === 'client error')).toEqual([]);
    } finally {
      await broken.close();
    }
  });
});
