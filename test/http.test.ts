// The HTTP door: hostile or broken input gets a standard GraphQL error with a
// 4xx (or 200), never a 5xx; unexpected failures are masked and logged.
import { connect } from 'node:net';
import { getIntrospectionQuery, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskDocument, TasksDocument, ViewerDocument } from '../src/generated/client/graphql.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';
import { type Listening, listen } from './helpers/socket.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 100_000 } });
});
afterAll(() => h.close());

const post = (body: string, headers: Record<string, string> = {}) =>
  h.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body,
  });

describe('malformed requests', () => {
  it.each([
    ['a GraphQL syntax error', JSON.stringify({ query: '{ task(id: "x" { id } }' }), /Syntax Error/],
    ['malformed JSON', '{"query": "{ viewer', /POST body sent invalid JSON/],
    ['no query at all', JSON.stringify({ variables: {} }), /Must provide query string/],
    ['an unknown field', JSON.stringify({ query: '{ nope }' }), /Cannot query field "nope"/],
    [
      'a wrong variable type',
      JSON.stringify({ query: TasksFirst, variables: { first: 'ten' } }),
      /Int cannot represent/,
    ],
    [
      'a missing required variable',
      JSON.stringify({ query: print(TaskDocument) }),
      /Variable "\$id" of required type "ID!" was not provided/,
    ],
    [
      'a non-object variables field',
      JSON.stringify({ query: '{ viewer { __typename } }', variables: 'x' }),
      /"variables" param/,
    ],
  ])('answers %s with a 4xx and a GraphQL error', async (_, body, message) => {
    const res = await post(body);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const json = (await res.json()) as { errors: { message: string }[] };
    expect(json.errors[0]!.message).toMatch(message);
  });

  it('refuses a mutation over GET', async () => {
    const url = `http://localhost/graphql?query=${encodeURIComponent('mutation { deleteTask(id: "x") { __typename } }')}`;
    const res = await h.app.fetch(url, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(405);
  });

  it('refuses a body over 1 MB with 413 before reading it', async () => {
    const res = await post(JSON.stringify({ query: `{ viewer { __typename } } #${'x'.repeat(1_100_000)}` }));
    expect(res.status).toBe(413);
  });
});

const TasksFirst = print(TasksDocument);

/** A refusal before execution: a GraphQL error, a 200 or 4xx, and no data at all. */
async function expectRefused(res: Response, message: RegExp) {
  expect([200, 400]).toContain(res.status);
  const json = (await res.json()) as { data?: unknown; errors: { message: string }[] };
  expect(json.data).toBeUndefined();
  expect(json.errors[0]!.message).toMatch(message);
}

describe('document limits (graphql-armor)', () => {
  it('refuses more than 100 aliases before executing anything', async () => {
    const { key } = await h.account();
    const fields = Array.from({ length: 101 }, (_, i) => `a${i}: viewer { __typename }`).join(' ');
    await expectRefused(
      await post(JSON.stringify({ query: `{ ${fields} }` }), { 'x-access-key': key }),
      /Aliases limit of 100/,
    );
    // Nothing ran, so nothing was counted.
    expect(narrow((await h.gql(ViewerDocument, {}, key)).viewer, 'Account').rateLimit.remaining).toBe(100_000);
  });

  it('allows the standard introspection query (GraphiQL, codegen)', async () => {
    const res = await post(
      JSON.stringify({ query: getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }) }),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { __schema: unknown } }).data.__schema).toBeDefined();
  });

  it('refuses cyclic introspection (fields → type → fields …), which would amplify without bound', async () => {
    const deep = `{ __schema { types { fields { type { fields { type { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } } } } } }`;
    await expectRefused(await post(JSON.stringify({ query: deep })), /introspection depth|depth limit of 12/);
  });

  it('refuses a document of more than 5,000 tokens', async () => {
    await expectRefused(
      await post(JSON.stringify({ query: `{ ${'__typename '.repeat(5_001)} }` })),
      /Token limit of 5000/,
    );
  });
});

describe('typed errors', () => {
  it('stay HTTP 200 with no top-level errors, so clients with default error policies keep them', async () => {
    const res = await post(JSON.stringify({ query: print(TaskDocument), variables: { id: 'x' } }));
    expect(res.status).toBe(200);
    const json = (await res.json()) as { data: { task: { __typename: string } }; errors?: unknown };
    expect(json.errors).toBeUndefined();
    expect(json.data.task.__typename).toBe('Unauthorized');
  });
});

describe('unexpected failures', () => {
  it('are masked (no SQL, stack or path reaches the client) and logged in full', async () => {
    const broken = await createHarness();
    try {
      const { key } = await broken.account();
      await broken.db.transaction(async (tx) => {
        // TaskRun first: PostgreSQL refuses to drop a table others reference.
        await tx.$executeRawUnsafe('DROP TABLE "TaskRun"');
        await tx.$executeRawUnsafe('DROP TABLE "Task"');
      });
      const res = await broken.request(TaskDocument, { id: 'x' }, { key });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ task: null });
      expect(res.body.errors).toEqual([
        {
          message: 'Unexpected error.',
          locations: [{ line: 2, column: 3 }],
          path: ['task'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ]);
      const text = JSON.stringify(res.body);
      for (const leak of ['no such table', 'SELECT', 'main', 'stack', '/src/', 'node_modules', 'prisma']) {
        expect(text).not.toContain(leak);
      }
      expect(broken.logLines.join('\n')).toMatch(/no such table: Task|The table `\w+\.Task` does not exist/);
    } finally {
      await broken.close();
    }
  });

  it('are masked in development mode too', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'development';
    const broken = await createHarness();
    try {
      const { key } = await broken.account();
      await broken.db.transaction(async (tx) => {
        // TaskRun first: PostgreSQL refuses to drop a table others reference.
        await tx.$executeRawUnsafe('DROP TABLE "TaskRun"');
        await tx.$executeRawUnsafe('DROP TABLE "Task"');
      });
      const res = await broken.request(TaskDocument, { id: 'x' }, { key });
      expect(JSON.stringify(res.body)).not.toMatch(/originalError|no such table|stack/);
    } finally {
      process.env.NODE_ENV = previous;
      await broken.close();
    }
  });
});

describe('GraphiQL', () => {
  it('is served at /graphql from this server only, with no CDN', async () => {
    const res = await h.app.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"|"(\/graphiql-assets\/[^"]+)"/g)].map((m) => m[1] ?? m[2]!);
    expect(urls.length).toBeGreaterThanOrEqual(5);
    for (const url of urls) {
      expect(url.startsWith('/graphiql-assets/')).toBe(true);
      const asset = await h.app.fetch(`http://localhost${url}`);
      expect(asset.status, url).toBe(200);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('serves only its own files', async () => {
    for (const path of [
      '/graphiql-assets/../../package.json',
      '/graphiql-assets/%2e%2e/package.json',
      '/graphiql-assets/x.js',
    ]) {
      expect((await h.app.fetch(`http://localhost${path}`)).status).toBe(404);
    }
  });
});

describe('over a real socket', () => {
  let server: Listening;
  let url: string;
  beforeAll(async () => {
    server = await listen(h.app);
    url = server.url;
  });
  afterAll(() => server.close());

  it('answers queries and mutations', async () => {
    const { id, key } = await h.account({ name: 'socket' });
    const taskId = await h.task(id);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-access-key': key },
      body: JSON.stringify({
        query: `{ viewer { ... on Account { name } } t: task(id: "${taskId}") { ... on Task { id } } }`,
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { viewer: { name: 'socket' }, t: { id: taskId } } });
  });
  /** Sends raw bytes and returns the status line of the answer, without waiting for more input. */
  function raw(head: string): Promise<string> {
    const { port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(head));
      socket.once('data', (chunk) => {
        resolve(chunk.toString('latin1').split('\r\n')[0]!);
        socket.destroy();
      });
      socket.once('error', reject);
    });
  }

  /** A streamed body: fetch sends it chunked, with no Content-Length. */
  const chunked = (text: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          const bytes = new TextEncoder().encode(text);
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);

  it('refuses a Content-Length over 1 MB with 413 before any of the body is sent', async () => {
    const status = await raw(
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000001\r\n\r\n',
    );
    expect(status).toBe('HTTP/1.1 413 Payload Too Large');
  });

  it('refuses a malformed Content-Length with 400', async () => {
    for (const length of ['-1', '1, 1', 'abc']) {
      const status = await raw(
        `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{}`,
      );
      expect(status, length).toMatch(/^HTTP\/1\.1 400 /);
    }
  });

  it('counts a chunked body as it streams: 413 past 1 MB, answered below it', async () => {
    const big = await chunked(JSON.stringify({ query: `{ __typename } #${'x'.repeat(1_100_000)}` }));
    expect(big.status).toBe(413);
    // The unread rest of the body would block the connection: it is closed.
    expect(big.headers.get('connection')).toBe('close');
    const small = await chunked(JSON.stringify({ query: `{ __typename } #${'x'.repeat(900_000)}` }));
    expect(small.status).toBe(200);
    expect(await small.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses multipart bodies (this API takes no uploads)', async () => {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: '{ __typename }' }));
    form.set('map', '{}');
    const res = await fetch(url, { method: 'POST', body: form });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});
