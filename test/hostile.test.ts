// A hostile client's view of the HTTP door. Every request here must get a 4xx
// or a typed answer (HTTP 200 with a union member) — never a 5xx — and no
// response may leak a stack, SQL, a file path, Prisma text or an
// `originalError` extension: every response goes through `answered`
// (helpers/hostile.ts). Regression suite for the operation-selection,
// nesting, amplification and echo bugs found by probing the running server.
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './helpers/harness.js';
import {
  type Answer,
  answered,
  distinctText,
  expectRequestError,
  expectShortEcho,
  preview,
  RAW_CONTROL,
} from './helpers/hostile.js';
import { type Listening, listen } from './helpers/socket.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 100_000 } });
});
afterAll(() => h.close());

/** The GraphQL-over-HTTP media type: a request error must then be a 4xx, not a 200. */
const ACCEPT = 'application/graphql-response+json';
const ENDPOINT = 'http://localhost/graphql';

interface Opts {
  key?: string;
  headers?: Record<string, string>;
  what?: string;
}

function authHeaders(opts: Opts): Record<string, string> {
  return { accept: ACCEPT, ...(opts.key ? { 'x-access-key': opts.key } : {}), ...opts.headers };
}

/** POSTs a body (an object is sent as JSON) and checks the answer with `answered`. */
async function post(body: unknown, opts: Opts = {}): Promise<Answer> {
  const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const res = await h.app.fetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders(opts) },
    body: raw as BodyInit,
  });
  return answered(res, opts.what ?? 'POST');
}

/** GETs /graphql with these search parameters and checks the answer with `answered`. */
async function get(params: Record<string, string>, opts: Opts = {}): Promise<Answer> {
  const res = await h.app.fetch(`${ENDPOINT}?${new URLSearchParams(params)}`, { headers: authHeaders(opts) });
  return answered(res, opts.what ?? 'GET');
}

/** The answer's `data`, asserting HTTP 200 and no top-level errors. */
function dataOf(a: Answer): Record<string, unknown> {
  expect(a.status, preview(a)).toBe(200);
  expect(a.json?.errors, preview(a)).toBeUndefined();
  expect(a.json?.data, preview(a)).toBeTruthy();
  return a.json!.data!;
}

async function taskCount(key: string): Promise<number> {
  const data = dataOf(await post({ query: '{ tasks { ... on TaskConnection { totalCount } } }' }, { key }));
  return (data.tasks as { totalCount: number }).totalCount;
}

/** The server still answers an ordinary request, anonymous and authenticated. */
async function expectAlive() {
  expect(dataOf(await post({ query: '{ __typename }' }))).toEqual({ __typename: 'Query' });
  const { key } = await h.account({ name: 'alive' });
  expect(dataOf(await post({ query: '{ viewer { __typename ... on Account { name } } }' }, { key }))).toEqual({
    viewer: { __typename: 'Account', name: 'alive' },
  });
}

/** Every typed error of a selection `__typename ... on Error { code message }`, with its alias. */
function typedErrors(data: Record<string, unknown>): [string, { __typename: string; code: string; message: string }][] {
  return Object.entries(data) as [string, { __typename: string; code: string; message: string }][];
}

// ---------------------------------------------------------------------------
// 1. The operation named by operationName is the one that runs.
// ---------------------------------------------------------------------------

/** Document D of the contract; `name` varies it so each test compiles its own copy. */
const twoOperations = (name = 'x') =>
  `mutation Create { createTask(input: {name: "${name}", api: SCREENSHOT, query: "url=a", frequency: EVERY_DAY}) { __typename } } ` +
  'query Me { viewer { __typename ... on Account { name } } }';

describe('operationName selects the operation that runs', () => {
  it('Create, then Me (POST), Me (GET), Create (GET → 405): each answers its own operation; one task in the end', async () => {
    const D = twoOperations();
    const { key } = await h.account({ name: 'alpha' });

    const create = await post({ query: D, operationName: 'Create' }, { key, what: 'POST Create' });
    expect(dataOf(create), 'POST Create').toEqual({ createTask: { __typename: 'CreateTaskSuccess' } });

    const me = await post({ query: D, operationName: 'Me' }, { key, what: 'POST Me' });
    expect(dataOf(me), 'POST Me must run the query, not createTask').toEqual({
      viewer: { __typename: 'Account', name: 'alpha' },
    });

    const meGet = await get({ query: D, operationName: 'Me' }, { key, what: 'GET Me' });
    expect(dataOf(meGet), 'GET Me must run the query, not createTask').toEqual({
      viewer: { __typename: 'Account', name: 'alpha' },
    });

    const createGet = await get({ query: D, operationName: 'Create' }, { key, what: 'GET Create' });
    expect(createGet.status, `GET Create: ${preview(createGet)}`).toBe(405);
    expect(createGet.json?.data ?? undefined, preview(createGet)).toBeUndefined();

    expect(await taskCount(key), 'exactly the one task POST Create made').toBe(1);
  });

  it('another account asking Me of the same document gets its own viewer and creates nothing', async () => {
    const D = twoOperations('shared');
    const first = await h.account({ name: 'first' });
    const second = await h.account({ name: 'second' });
    expect(dataOf(await post({ query: D, operationName: 'Create' }, { key: first.key }))).toEqual({
      createTask: { __typename: 'CreateTaskSuccess' },
    });
    expect(dataOf(await post({ query: D, operationName: 'Me' }, { key: second.key })), 'POST Me').toEqual({
      viewer: { __typename: 'Account', name: 'second' },
    });
    expect(dataOf(await get({ query: D, operationName: 'Me' }, { key: second.key })), 'GET Me').toEqual({
      viewer: { __typename: 'Account', name: 'second' },
    });
    expect(await taskCount(second.key), "the second account's tasks").toBe(0);
    expect(await taskCount(first.key), "the first account's tasks").toBe(1);
  });

  it('the mutation runs when named even after the query of the same document was compiled first', async () => {
    const D = twoOperations('query-first');
    const { key } = await h.account({ name: 'gamma' });
    expect(dataOf(await get({ query: D, operationName: 'Me' }, { key })), 'GET Me').toEqual({
      viewer: { __typename: 'Account', name: 'gamma' },
    });
    const createGet = await get({ query: D, operationName: 'Create' }, { key, what: 'GET Create' });
    expect(createGet.status, preview(createGet)).toBe(405);
    expect(await taskCount(key), 'GET Create created nothing').toBe(0);
    expect(dataOf(await post({ query: D, operationName: 'Create' }, { key })), 'POST Create').toEqual({
      createTask: { __typename: 'CreateTaskSuccess' },
    });
    expect(dataOf(await post({ query: D, operationName: 'Me' }, { key })), 'POST Me').toEqual({
      viewer: { __typename: 'Account', name: 'gamma' },
    });
    expect(await taskCount(key)).toBe(1);
  });

  it('a GET naming the query never runs a mutation compiled before from the same document (nothing deleted)', async () => {
    const { id, key } = await h.account({ name: 'delta' });
    const [keep, victim] = [await h.task(id), await h.task(id)];
    const doc =
      'mutation Del($id: ID!) { deleteTask(id: $id) { __typename } } query Look($id: ID!) { task(id: $id) { __typename ... on Task { id } } }';
    expect(dataOf(await post({ query: doc, operationName: 'Del', variables: { id: victim } }, { key }))).toEqual({
      deleteTask: { __typename: 'DeleteTaskSuccess' },
    });
    const look = await get({ query: doc, operationName: 'Look', variables: JSON.stringify({ id: keep }) }, { key });
    expect(dataOf(look), 'GET Look must read the task, not delete it').toEqual({
      task: { __typename: 'Task', id: keep },
    });
    expect(await taskCount(key), 'the task GET Look named still exists').toBe(1);
  });

  it('a document with two queries answers each one by name, alternately, over POST and GET', async () => {
    const { id, key } = await h.account({ name: 'epsilon' });
    await h.task(id);
    const doc =
      'query A { viewer { __typename ... on Account { name plan } } } ' +
      'query B { tasks { __typename ... on TaskConnection { totalCount } } }';
    const a = { viewer: { __typename: 'Account', name: 'epsilon', plan: 'SCALE' } };
    const b = { tasks: { __typename: 'TaskConnection', totalCount: 1 } };
    for (const [name, expected, send] of [
      ['A', a, 'POST'],
      ['B', b, 'POST'],
      ['A', a, 'GET'],
      ['B', b, 'GET'],
      ['A', a, 'POST'],
      ['B', b, 'GET'],
    ] as const) {
      const res =
        send === 'POST'
          ? await post({ query: doc, operationName: name }, { key })
          : await get({ query: doc, operationName: name }, { key });
      expect(dataOf(res), `${send} ${name}`).toEqual(expected);
    }
  });

  it.each([
    ['an anonymous subscription', { query: 'subscription { __typename }' }],
    [
      'a subscription named beside a query',
      { query: 'subscription S { __typename } query Q { __typename }', operationName: 'S' },
    ],
  ])('refuses %s over GET (405 or 400), never running it', async (_, params) => {
    const { key } = await h.account();
    for (const opts of [{}, { key }]) {
      const res = await get(params, opts);
      expect([400, 405], preview(res)).toContain(res.status);
      expect(res.json?.data ?? undefined, preview(res)).toBeUndefined();
    }
  });
});

// ---------------------------------------------------------------------------
// 2. Unsupported operations and deeply nested values: a 4xx, never a 5xx.
// ---------------------------------------------------------------------------

const nestedLists = (depth: number, leaf = '"x"') => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
const nestedObjects = (depth: number, leaf = 'true') => `${'{a: '.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

describe('unsupported operations and deep nesting never cause a 5xx', () => {
  it.each([
    ['unauthenticated', false],
    ['authenticated', true],
  ])('answers `subscription { __typename }` (%s) with a 400 that names subscriptions', async (_, withKey) => {
    const key = withKey ? (await h.account()).key : undefined;
    const res = await post({ query: 'subscription { __typename }' }, key ? { key } : {});
    expect(res.status, preview(res)).toBe(400);
    expectRequestError(res, /subscription/i);
    await expectAlive();
  });

  it('answers an argument nested 2,400 lists deep (≈4.8 KB) with a 400 about nesting', async () => {
    const query = `{ task(id: ${nestedLists(2_400)}) { __typename } }`;
    expect(query.length).toBeGreaterThan(4_700);
    expect(query.length).toBeLessThan(5_000);
    const { key } = await h.account();
    for (const opts of [{}, { key }]) {
      const res = await post({ query }, opts);
      expect(res.status, preview(res)).toBe(400);
      expectRequestError(res, /nest/i);
    }
    await expectAlive();
  });

  it.each([
    ['a filter value', (v: string) => `{ tasks(filter: {enabled: ${v}}) { __typename } }`],
    [
      'a createTask input field',
      (v: string) =>
        `mutation { createTask(input: {name: ${v}, api: PDF, query: "url=a", frequency: EVERY_DAY}) { __typename } }`,
    ],
  ])('answers %s nested 11 input objects deep with a 400 about nesting', async (_, doc) => {
    const { key } = await h.account();
    const res = await post({ query: doc(nestedObjects(11)) }, { key });
    expect(res.status, preview(res)).toBe(400);
    expectRequestError(res, /nest/i);
  });

  it('answers an argument nested 1,200 input objects deep (under the token limit) with a 400 about nesting', async () => {
    const { key } = await h.account();
    const res = await post({ query: `{ tasks(filter: {enabled: ${nestedObjects(1_200)}}) { __typename } }` }, { key });
    expect(res.status, preview(res)).toBe(400);
    expectRequestError(res, /nest/i);
    await expectAlive();
  });

  // Armor's depth limit skips everything under `__schema`, and graphql-js's
  // introspection-depth rule does not count `ofType`: the chain below is
  // compiled level by level (≈1.3 s of blocked event loop for 800 levels) and
  // past ~1,200 overflows graphql-jit's stack. The standard introspection
  // query nests `ofType` 9 deep.
  it.each([
    [50, 'a'],
    [1_600, 'b'],
  ])(
    'refuses an introspection `ofType` chain %i deep under __schema quickly (< 1 s) with a 4xx',
    async (depth, alias) => {
      // The alias makes each document distinct, so no compiled-query cache helps.
      const query = `{ ${alias}: __schema { types { ${'ofType { '.repeat(depth)}name${' }'.repeat(depth)} } } }`;
      const started = performance.now();
      const res = await post({ query });
      const elapsed = performance.now() - started;
      expectRequestError(res);
      expect(elapsed, `answered in ${Math.round(elapsed)} ms`).toBeLessThan(1_000);
      await expectAlive();
    },
  );

  it('answers a variable nested 100,000 lists deep for `$id: ID!` with a 400 variable error', async () => {
    const { key } = await h.account();
    const body = `{"query":"query T($id: ID!) { task(id: $id) { __typename } }","variables":{"id":${nestedLists(100_000)}}}`;
    const res = await post(body, { key });
    expect(res.status, preview(res)).toBe(400);
    expectRequestError(res, /\$id/);
    expect(res.bytes, 'the error does not print the whole value').toBeLessThan(4_096);
    await expectAlive();
  });
});

// ---------------------------------------------------------------------------
// 3. Amplification is bounded: small answers for huge input, no long echoes.
// ---------------------------------------------------------------------------

const KB = 1024;
const ALIASES = 100;
const HUGE_ID = distinctText(900_000, 'huge-');

/** 100 aliases of task($id). `selection` is what each alias selects. */
const aliasedTasks = (selection: string) =>
  `query Many($id: ID!) { ${Array.from({ length: ALIASES }, (_, i) => `t${i}: task(id: $id) { ${selection} }`).join(' ')} }`;

describe('amplification is bounded', () => {
  it('answers 100 aliases of task($id) with a 900 KB id in under 64 KB, each alias a ValidationError on `id`', async () => {
    const { key } = await h.account();
    const res = await post(
      {
        query: aliasedTasks('__typename ... on ValidationError { field } ... on Error { code message }'),
        variables: { id: HUGE_ID },
      },
      { key },
    );
    expect(res.bytes, `response size (${res.bytes} bytes)`).toBeLessThan(64 * KB);
    const data = dataOf(res);
    expect(Object.keys(data)).toHaveLength(ALIASES);
    for (const [alias, value] of Object.entries(data)) {
      expect(value, alias).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field: 'id' });
      expectShortEcho((value as { message: string }).message, HUGE_ID, 32, `${alias}.message`);
    }
  });

  it('answers the same 100 aliases selecting only `... on Error` in under 64 KB, each alias a VALIDATION error', async () => {
    // The selection is valid whether or not TaskResult includes ValidationError,
    // so this one measures the amplification alone.
    const { key } = await h.account();
    const res = await post(
      { query: aliasedTasks('__typename ... on Error { code message }'), variables: { id: HUGE_ID } },
      { key },
    );
    expect(
      res.bytes,
      `response size (${res.bytes} bytes; ${ALIASES} echoes of a 900 KB id would be ~90 MB)`,
    ).toBeLessThan(64 * KB);
    const data = dataOf(res);
    expect(Object.keys(data)).toHaveLength(ALIASES);
    for (const [alias, value] of typedErrors(data)) {
      expect(value, alias).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION' });
      expectShortEcho(value.message, HUGE_ID, 32, `${alias}.message`);
    }
  });

  describe('over a real socket', () => {
    let server: Listening;
    let url: string;
    beforeAll(async () => {
      server = await listen(h.app);
      url = server.url;
    });
    afterAll(() => server.close());

    const send = (body: unknown, key: string, headers: Record<string, string> = {}) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: ACCEPT, 'x-access-key': key, ...headers },
        body: JSON.stringify(body),
      });

    it('four concurrent 900 KB-id requests answer under 64 KB each and do not stall another account (< 2 s)', async () => {
      const attacker = await h.account({ name: 'attacker' });
      const bystander = await h.account({ name: 'bystander' });
      const hostile = Array.from({ length: 4 }, (_, i) =>
        send(
          { query: aliasedTasks('__typename ... on Error { code message }'), variables: { id: HUGE_ID } },
          attacker.key,
        ).then((res) => answered(res, `hostile request ${i}`)),
      );
      // Let the four reach the server before the bystander asks.
      await new Promise((resolve) => setTimeout(resolve, 150));
      const started = performance.now();
      const normal = await answered(
        await send({ query: '{ viewer { __typename ... on Account { name } } }' }, bystander.key),
        'bystander',
      );
      const elapsed = performance.now() - started;
      const answers = await Promise.all(hostile);
      expect(dataOf(normal)).toEqual({ viewer: { __typename: 'Account', name: 'bystander' } });
      expect(elapsed, `the bystander waited ${Math.round(elapsed)} ms`).toBeLessThan(2_000);
      for (const [i, a] of answers.entries()) {
        expect(a.bytes, `hostile request ${i}: ${a.bytes} bytes`).toBeLessThan(64 * KB);
        expect(a.status, preview(a)).toBe(200);
      }
    }, 120_000);

    it('answers a 100 KB X-Access-Key header with a 4xx or Unauthorized, and a small body', async () => {
      const res = await answered(
        await send({ query: '{ viewer { __typename } }' }, 'k'.repeat(100_000)),
        'a 100 KB key over a socket',
      );
      // Node's HTTP parser refuses headers over 16 KB (431); any 4xx, or a typed Unauthorized.
      if (res.status === 200) expect(dataOf(res)).toEqual({ viewer: { __typename: 'Unauthorized' } });
      else expect(res.status, preview(res)).toBeGreaterThanOrEqual(400);
      expect(res.bytes).toBeLessThan(4 * KB);
    });
  });

  describe('error messages echo at most a short prefix of client input', () => {
    const LONG = distinctText(10_000, 'long-');
    const SIXTY = distinctText(60, 'sixty-');
    const operations = [
      ['task', 'query Q($id: ID!) { r: task(id: $id) { __typename ... on Error { code message } } }'],
      ['deleteTask', 'mutation M($id: ID!) { r: deleteTask(id: $id) { __typename ... on Error { code message } } }'],
      [
        'cancelSchedule',
        'mutation M($id: ID!) { r: cancelSchedule(id: $id) { __typename ... on Error { code message } } }',
      ],
    ] as const;

    it.each(operations)(
      '%s with a 10,000-character id: a typed error, under 4 KB, echoing ≤ 32 characters',
      async (_, doc) => {
        const { key } = await h.account();
        const res = await post({ query: doc, variables: { id: LONG } }, { key });
        expect(res.bytes, `response size (${res.bytes} bytes)`).toBeLessThan(4 * KB);
        const r = dataOf(res).r as { __typename: string; code: string; message: string };
        expect(['ValidationError', 'NotFound'], JSON.stringify(r).slice(0, 300)).toContain(r.__typename);
        expectShortEcho(r.message, LONG, 32, 'message');
      },
    );

    it.each(operations)('%s with a 60-character id: NotFound echoing ≤ 32 characters', async (_, doc) => {
      const { key } = await h.account();
      const r = dataOf(await post({ query: doc, variables: { id: SIXTY } }, { key })).r as {
        __typename: string;
        message: string;
      };
      expect(r.__typename, JSON.stringify(r)).toBe('NotFound');
      expectShortEcho(r.message, SIXTY, 32, 'message');
    });

    it('deleteTasks item outcomes echo ≤ 32 characters of a 60-character id', async () => {
      const { key } = await h.account();
      const res = await post(
        {
          query:
            'mutation M($ids: [ID!]!) { deleteTasks(ids: $ids) { __typename ... on DeleteTasksSuccess { results { outcome { __typename ... on Error { message } } } } } }',
          variables: { ids: [SIXTY] },
        },
        { key },
      );
      const r = dataOf(res).deleteTasks as { results: { outcome: { __typename: string; message: string } }[] };
      expect(r.results, JSON.stringify(r)).toHaveLength(1);
      expect(r.results[0]!.outcome.__typename).toBe('NotFound');
      expectShortEcho(r.results[0]!.outcome.message, SIXTY, 32, 'outcome message');
    });

    // A control character cannot be in any id (PostgreSQL cannot even store
    // NUL): ValidationError. Other characters are opaque id text: NotFound.
    it.each([
      ['NUL', 'nul\u0000id', 'ValidationError'],
      ['a right-to-left override (U+202E)', 'rtl\u202Edi-gnp.exe', 'NotFound'],
      ['a zero-width joiner', 'zwj\u200Did', 'NotFound'],
      ['emoji', 'emoji-👩‍💻-🚀-id', 'NotFound'],
      ['all of them', 'mix\u0000\u202E\u200D👩‍💻', 'ValidationError'],
    ])('an id with %s: %s (200), its message without raw control or bidi characters', async (_, id, member) => {
      const { key } = await h.account();
      const doc = 'query Q($id: ID!) { r: task(id: $id) { __typename ... on Error { code message } } }';
      const r = dataOf(await post({ query: doc, variables: { id } }, { key })).r as {
        __typename: string;
        message: string;
      };
      expect(r.__typename, JSON.stringify(r)).toBe(member);
      const m = RAW_CONTROL.exec(r.message);
      expect(
        m,
        `raw U+${m?.[0].codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')} in ${JSON.stringify(r.message)}`,
      ).toBeNull();
    });
  });

  describe('every value has a documented length limit; past it, a ValidationError on that field', () => {
    const createTask = (input: string) =>
      `mutation C($v: String!) { r: createTask(input: {${input}}) { __typename ... on ValidationError { field } ... on Error { code message } } }`;
    const base = 'api: PDF, frequency: CUSTOM, crontab: "0 2 * * *"';

    /** A five-field crontab croner accepts, exactly `length` characters long. */
    function validCrontab(length: number): string {
      // minutes 0..59 as a list, then hours 0..23 as a list: long enough for 128.
      const minutes = Array.from({ length: 60 }, (_, i) => String(i));
      const hours = Array.from({ length: 24 }, (_, i) => String(i));
      for (let m = 1; m <= 60; m++) {
        for (let hh = 1; hh <= 24; hh++) {
          const cron = `${minutes.slice(0, m).join(',')} ${hours.slice(0, hh).join(',')} * * *`;
          if (cron.length === length) return cron;
        }
      }
      throw new Error(`no crontab of ${length} characters`);
    }

    /** A cursor in the server's own format (base64url of [ms, id]). */
    const cursorOf = (id: string) =>
      Buffer.from(JSON.stringify([Date.UTC(2026, 5, 15, 12, 0, 0), id])).toString('base64url');
    /** The longest cursor a task can have: an id of 64 three-byte UTF-8 characters (~280 characters). */
    const longestCursor = cursorOf('界'.repeat(64));

    const huge = (prefix: string) => distinctText(900_000, prefix);

    const cases: [string, string, string, unknown][] = [
      [
        'task id of 65 characters',
        'id',
        'query Q($v: ID!) { r: task(id: $v) { __typename ... on ValidationError { field } ... on Error { code message } } }',
        distinctText(65, 'id-'),
      ],
      [
        'task id of 900 KB',
        'id',
        'query Q($v: ID!) { r: task(id: $v) { __typename ... on ValidationError { field } ... on Error { code message } } }',
        huge('id-'),
      ],
      [
        'crontab of 129 characters (valid cron)',
        'crontab',
        createTask('api: PDF, frequency: CUSTOM, name: "n", query: "url=a", crontab: $v'),
        validCrontab(129),
      ],
      [
        'crontab of 935 KB',
        'crontab',
        createTask('api: PDF, frequency: CUSTOM, name: "n", query: "url=a", crontab: $v'),
        `* * * * ${'1'.repeat(935_000)}`,
      ],
      [
        'timezone of 65 characters',
        'timezone',
        createTask(`${base}, name: "n", query: "url=a", timezone: $v`),
        distinctText(65, 'Europe/'),
      ],
      [
        'timezone of 900 KB',
        'timezone',
        createTask(`${base}, name: "n", query: "url=a", timezone: $v`),
        huge('Europe/'),
      ],
      ['name of 256 characters', 'name', createTask(`${base}, query: "url=a", name: $v`), distinctText(256, 'name-')],
      ['name of 900 KB', 'name', createTask(`${base}, query: "url=a", name: $v`), huge('name-')],
      ['query of 8,193 characters', 'query', createTask(`${base}, name: "n", query: $v`), `url=${distinctText(8_189)}`],
      ['query of 900 KB', 'query', createTask(`${base}, name: "n", query: $v`), `url=${huge('q')}`],
      [
        'after cursor of 321 characters',
        'after',
        'query Q($v: String) { r: tasks(after: $v) { __typename ... on ValidationError { field } ... on Error { code message } } }',
        `${longestCursor}${'A'.repeat(321 - longestCursor.length)}`,
      ],
      [
        'after cursor of 900 KB',
        'after',
        'query Q($v: String) { r: tasks(after: $v) { __typename ... on ValidationError { field } ... on Error { code message } } }',
        huge('cursor'),
      ],
      [
        'deleteTasks with one id of 65 characters',
        'ids',
        'mutation M($v: [ID!]!) { r: deleteTasks(ids: $v) { __typename ... on ValidationError { field } ... on Error { code message } } }',
        [distinctText(65, 'id-')],
      ],
      [
        'deleteTasks with 1,001 ids',
        'ids',
        'mutation M($v: [ID!]!) { r: deleteTasks(ids: $v) { __typename ... on ValidationError { field } ... on Error { code message } } }',
        Array.from({ length: 1_001 }, (_, i) => `id-${i}`),
      ],
      [
        'deleteTasks with 1,000 ids of 65 characters',
        'ids',
        'mutation M($v: [ID!]!) { r: deleteTasks(ids: $v) { __typename ... on ValidationError { field } ... on Error { code message } } }',
        Array.from({ length: 1_000 }, (_, i) => distinctText(65, `${i}-`)),
      ],
    ];

    it.each(cases)(
      '%s → ValidationError on `%s`, under 4 KB, echoing ≤ 32 characters',
      async (_, name, query, value) => {
        const { key } = await h.account({ quotaLimit: 1_000_000 });
        const res = await post({ query, variables: { v: value } }, { key });
        expect(res.bytes, `response size (${res.bytes} bytes): ${preview(res, 300)}`).toBeLessThan(4 * KB);
        const r = dataOf(res).r as { __typename: string; code: string; field?: string; message: string };
        expect(r, JSON.stringify(r).slice(0, 400)).toMatchObject({
          __typename: 'ValidationError',
          code: 'VALIDATION',
          field: name,
        });
        const values = Array.isArray(value) ? (value as string[]) : [value as string];
        for (const v of values.slice(0, 3)) expectShortEcho(r.message, v, 32, 'message');
      },
    );

    // At the limit, the same values are accepted: the limits are not tighter than documented.
    it.each([
      [
        'a task id of 64 characters',
        'query Q($v: ID!) { r: task(id: $v) { __typename } }',
        distinctText(64, 'id-'),
        'NotFound',
      ],
      [
        'a crontab of 128 characters',
        createTask('api: PDF, frequency: CUSTOM, name: "n", query: "url=a", crontab: $v'),
        validCrontab(128),
        'CreateTaskSuccess',
      ],
      [
        'a name of 255 characters',
        createTask(`${base}, query: "url=a", name: $v`),
        distinctText(255, 'name-'),
        'CreateTaskSuccess',
      ],
      [
        'a query of 8,192 characters',
        createTask(`${base}, name: "n", query: $v`),
        `url=${distinctText(8_188)}`,
        'CreateTaskSuccess',
      ],
      [
        'the longest well-formed after cursor (an id of 64 three-byte characters)',
        'query Q($v: String) { r: tasks(after: $v) { __typename } }',
        longestCursor,
        'TaskConnection',
      ],
      [
        'deleteTasks with 1,000 ids of 64 characters',
        'mutation M($v: [ID!]!) { r: deleteTasks(ids: $v) { __typename } }',
        Array.from({ length: 1_000 }, (_, i) => distinctText(64, `${i}-`)),
        'DeleteTasksSuccess',
      ],
    ])('accepts %s', async (_, query, value, typename) => {
      const { key } = await h.account({ quotaLimit: 1_000_000 });
      const r = dataOf(await post({ query, variables: { v: value } }, { key })).r as { __typename: string };
      expect(r.__typename, JSON.stringify(r)).toBe(typename);
    });

    it.each([
      ['Query.task(id)', (s: Schema) => arg(s.queryType, 'task', 'id'), /\b64\b/],
      ['Mutation.deleteTask(id)', (s: Schema) => arg(s.mutationType, 'deleteTask', 'id'), /\b64\b/],
      ['Mutation.cancelSchedule(id)', (s: Schema) => arg(s.mutationType, 'cancelSchedule', 'id'), /\b64\b/],
      ['Mutation.deleteTasks(ids) (each id)', (s: Schema) => arg(s.mutationType, 'deleteTasks', 'ids'), /\b64\b/],
      ['Mutation.deleteTasks(ids) (count)', (s: Schema) => arg(s.mutationType, 'deleteTasks', 'ids'), /\b1,?000\b/],
      ['Query.tasks(after)', (s: Schema) => arg(s.queryType, 'tasks', 'after'), /\b320\b/],
      ['CreateTaskInput.crontab', (s: Schema) => input(s, 'crontab'), /\b128\b/],
      ['CreateTaskInput.timezone', (s: Schema) => input(s, 'timezone'), /\b64\b/],
      ['CreateTaskInput.name', (s: Schema) => input(s, 'name'), /\b255\b/],
      ['CreateTaskInput.query', (s: Schema) => input(s, 'query'), /\b8,?192\b/],
    ])('documents the limit of %s in its description', async (_, pick, limit) => {
      const description = pick(await schemaDescriptions());
      expect(description ?? '(no description)').toMatch(limit);
    });
  });

  it.each([
    ['X-Access-Key', (key: string) => ({ headers: { 'x-access-key': key } })],
    ['Authorization: Bearer', (key: string) => ({ headers: { authorization: `Bearer ${key}` } })],
  ])('answers a 100 KB key in %s with Unauthorized and a small body', async (_, opts) => {
    const res = await post(
      { query: '{ viewer { __typename ... on Error { code message } } }' },
      opts('k'.repeat(100_000)),
    );
    expect(res.bytes).toBeLessThan(4 * KB);
    expect(dataOf(res)).toMatchObject({ viewer: { __typename: 'Unauthorized', code: 'UNAUTHORIZED' } });
  });

  it('answers a 100 KB access_key query parameter with Unauthorized and a small body', async () => {
    const res = await get({ query: '{ viewer { __typename } }', access_key: 'k'.repeat(100_000) });
    expect(res.bytes).toBeLessThan(4 * KB);
    expect(dataOf(res)).toEqual({ viewer: { __typename: 'Unauthorized' } });
  });
});

interface IntrospectedField {
  name: string;
  description: string | null;
  args: { name: string; description: string | null }[];
}
interface Schema {
  queryType: { fields: IntrospectedField[] };
  mutationType: { fields: IntrospectedField[] };
  input: { inputFields: { name: string; description: string | null }[] };
}

async function schemaDescriptions(): Promise<Schema> {
  const res = await post({
    query: `{
      __schema {
        queryType { fields { name description args { name description } } }
        mutationType { fields { name description args { name description } } }
      }
      input: __type(name: "CreateTaskInput") { inputFields { name description } }
    }`,
  });
  const data = dataOf(res) as { __schema: Omit<Schema, 'input'>; input: Schema['input'] };
  return { ...data.__schema, input: data.input };
}

const arg = (type: { fields: IntrospectedField[] }, field: string, name: string) =>
  type.fields.find((f) => f.name === field)?.args.find((a) => a.name === name)?.description;
const input = (s: Schema, name: string) => s.input.inputFields.find((f) => f.name === name)?.description;

// ---------------------------------------------------------------------------
// 4. Limits that hold today: keep them held.
// ---------------------------------------------------------------------------

/** A fragment each spreading the previous one twice, `levels` deep (2^levels fields). */
function billionLaughs(levels: number): string {
  let doc = 'fragment F0 on Query { __typename viewer { __typename } }';
  for (let i = 1; i <= levels; i++) doc += ` fragment F${i} on Query { ...F${i - 1} ... on Query { ...F${i - 1} } }`;
  return `{ ...F${levels} } ${doc}`;
}

describe('document and request limits that hold', () => {
  it('refuses a selection deeper than 10 with a 4xx about depth', async () => {
    const deep =
      '{ tasks { ... on TaskConnection { edges { node { id { a { b { c { d { e { f { g } } } } } } } } } } } }';
    expectRequestError(await post({ query: deep }), /depth/i);
  });

  it('refuses fragment cycles with a 4xx', async () => {
    expectRequestError(
      await post({ query: '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }' }),
      /within itself/,
    );
  });

  it('refuses a "billion laughs" fragment explosion, or answers it cheaply (small, < 1 s)', async () => {
    const { key } = await h.account();
    const started = performance.now();
    const res = await post({ query: billionLaughs(10) }, { key });
    const elapsed = performance.now() - started;
    expect(elapsed, `answered in ${Math.round(elapsed)} ms`).toBeLessThan(1_000);
    expect(res.bytes).toBeLessThan(64 * KB);
    if (res.status === 200) dataOf(res);
    else expectRequestError(res);
  });

  it('refuses 1,000 aliased root fields with a 4xx', async () => {
    const { key } = await h.account();
    const fields = Array.from({ length: 1_000 }, (_, i) => `a${i}: viewer { __typename }`).join(' ');
    expectRequestError(await post({ query: `{ ${fields} }` }, { key }));
  });

  it('refuses 1,000 aliases of __typename with a 4xx (README: at most 100 aliases)', async () => {
    const fields = Array.from({ length: 1_000 }, (_, i) => `a${i}: __typename`).join(' ');
    expectRequestError(await post({ query: `{ ${fields} }` }), /alias/i);
  });

  it('refuses 1,000 directives with a 4xx', async () => {
    expectRequestError(await post({ query: `{ __typename ${'@include(if: true) '.repeat(1_000)}}` }));
  });

  it.each([
    [
      '101 aliases',
      `{ ${Array.from({ length: 101 }, (_, i) => `a${i}: viewer { __typename }`).join(' ')} }`,
      /Aliases limit of 100/,
    ],
    ['51 directives', `{ __typename ${'@include(if: true) '.repeat(51)}}`, /Directives limit of 50/],
    ['a cost of Infinity (a 400-digit `first`)', `{ tasks(first: ${'9'.repeat(400)}) { __typename } }`, /Cost limit/i],
    ['5,001 tokens', `{ ${'__typename '.repeat(5_001)} }`, /Token limit of 5000/],
  ])(
    'answers a graphql-armor refusal (%s) with a 4xx, as the graphql-response+json media type requires',
    async (_, query, message) => {
      const { key } = await h.account();
      expectRequestError(await post({ query }, { key }), message);
    },
  );

  it('refuses a JSON array body (batching) with a 4xx', async () => {
    expectRequestError(await post([{ query: '{ __typename }' }, { query: '{ __typename }' }]));
  });

  it('refuses a mutation over GET with 405', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id);
    const res = await get({ query: `mutation { deleteTask(id: "${taskId}") { __typename } }` }, { key });
    expect(res.status, preview(res)).toBe(405);
    expect(await taskCount(key)).toBe(1);
  });

  it('allows the standard introspection query', async () => {
    const res = await post({ query: getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }) });
    expect((dataOf(res).__schema as { types: unknown[] }).types.length).toBeGreaterThan(20);
  });

  it('refuses cyclic introspection with a 4xx', async () => {
    const deep =
      '{ __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }';
    expectRequestError(await post({ query: deep }), /introspection depth/i);
  });

  it('refuses a 1.1 MB body with 413', async () => {
    const res = await post({ query: `{ __typename } #${'x'.repeat(1_100_000)}` });
    expect(res.status, preview(res)).toBe(413);
  });

  it.each([
    ['as the whole body', Buffer.from([0xff, 0xfe, 0xfd])],
    [
      'inside the document',
      Buffer.concat([Buffer.from('{"query":"{ __typename '), Buffer.from([0xff]), Buffer.from(' }"}')]),
    ],
    [
      'inside a comment of the document',
      Buffer.concat([Buffer.from('{"query":"{ __typename } #'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]),
    ],
    [
      'inside a string argument',
      Buffer.concat([
        Buffer.from('{"query":"{ task(id: \\"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('\\") { __typename } }"}'),
      ]),
    ],
    [
      'inside a variable',
      Buffer.concat([
        Buffer.from('{"query":"query Q($id: ID!) { task(id: $id) { __typename } }","variables":{"id":"'),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}}'),
      ]),
    ],
  ])('refuses invalid UTF-8 %s with a 4xx', async (_, body) => {
    const { key } = await h.account();
    expectRequestError(await post(new Uint8Array(body), { key }));
  });

  it.each([
    ['malformed JSON', '{"query": "{ viewer'],
    ['`query` not a string', '{"query": 5}'],
    ['`variables` as a string', JSON.stringify({ query: '{ __typename }', variables: '{}' })],
    [
      '`operationName` naming a missing operation',
      JSON.stringify({ query: 'query A { __typename }', operationName: 'B' }),
    ],
    ['two anonymous operations', JSON.stringify({ query: '{ __typename } { __typename }' })],
    ['a document with NUL', JSON.stringify({ query: '{ __typename }\u0000' })],
    ['a __proto__ parameter', '{"query":"{ __typename }","__proto__":{"query":"{ viewer { __typename } }"}}'],
  ])('refuses %s with a 4xx', async (_, body) => {
    expectRequestError(await post(body));
  });

  it('still answers ordinary requests after everything above', async () => {
    await expectAlive();
  });
});

// ---------------------------------------------------------------------------
// 5. Found by review after the fixes above: ways around them.
// ---------------------------------------------------------------------------

describe('ways around the guards', () => {
  it('counts nesting as the parser reads it: a block-string escape cannot hide 2,000 nested lists', async () => {
    // `\"""` inside a block string is an escape, not its end: a scanner of its
    // own could read the lists below as inside a string while the parser
    // recursed into them (a 500).
    const lists = `${'['.repeat(2_000)}1${']'.repeat(2_000)}`;
    const query = `query($v:[Int]=[ """\\"""" " """"x" ${lists} """ """ ]){__typename}`;
    expectRequestError(await post({ query }), /nest/i);
    // Closing brackets first do not lower the count below zero either.
    expectRequestError(await post({ query: `${')'.repeat(100)} { task(id: ${'['.repeat(2_400)}` }));
    await expectAlive();
  });

  it('answers a syntax error quoting 128 KB of escapes quickly, with a short message', async () => {
    const query = `{ """${'\\"'.repeat(32_000)}\\\n""" }`;
    const started = performance.now();
    const res = await post({ query });
    const elapsed = performance.now() - started;
    const [message] = expectRequestError(res);
    expect(elapsed, `answered in ${Math.round(elapsed)} ms`).toBeLessThan(1_000);
    expect(message!.length).toBeLessThan(400);
    expect(res.bytes).toBeLessThan(2_000);
  });

  it('refuses control characters in names, queries, ids of a batch and cursors (PostgreSQL cannot store NUL)', async () => {
    const { key } = await h.account();
    const create = (input: string) =>
      `mutation { r: createTask(input: {${input}, api: PDF, frequency: EVERY_DAY}) { __typename ... on ValidationError { field } } }`;
    expect(dataOf(await post({ query: create('name: "a\\u0000b", query: "url=a"') }, { key })).r).toEqual({
      __typename: 'ValidationError',
      field: 'name',
    });
    expect(dataOf(await post({ query: create('name: "a", query: "url=a\\u0000"') }, { key })).r).toEqual({
      __typename: 'ValidationError',
      field: 'query',
    });
    const batch = await post(
      {
        query: 'mutation M($ids: [ID!]!) { r: deleteTasks(ids: $ids) { __typename ... on ValidationError { field } } }',
        variables: { ids: ['fine', 'nul\u0000id'] },
      },
      { key },
    );
    expect(dataOf(batch).r).toEqual({ __typename: 'ValidationError', field: 'ids' });
    const cursor = Buffer.from(JSON.stringify([Date.now(), 'nul\u0000id'])).toString('base64url');
    const page = await post(
      { query: `{ r: tasks(after: "${cursor}") { __typename ... on ValidationError { field } } }` },
      { key },
    );
    expect(dataOf(page).r).toEqual({ __typename: 'ValidationError', field: 'after' });
  });

  it.each([
    ['a NUL after the name', 'url=a&access_key%00=x'],
    ['a ; separator', 'url=a;access_key=x'],
    ['spaces and case', 'url=a& Access_Key =x'],
  ])('never stores an access_key in a task query, even with %s', async (_, query) => {
    const { key } = await h.account();
    const res = await post(
      {
        query:
          'mutation C($q: String!) { r: createTask(input: {name: "x", api: PDF, query: $q, frequency: EVERY_DAY}) { __typename ... on ValidationError { field } } }',
        variables: { q: query },
      },
      { key },
    );
    expect(dataOf(res).r).toEqual({ __typename: 'ValidationError', field: 'query' });
  });
});
