// `npm start` on an empty database, as a new user runs it: it migrates, seeds
// the demo account, prints its key, and answers GraphiQL's viewer query.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { npmStart, processesInGroup, type Started } from './helpers/run.js';

let database: TestDatabase;
let server: Started;

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  server = npmStart({ DATABASE_URL: database.url });
});

afterAll(async () => {
  server.killGroup();
  await server.exited;
  await database.drop();
});

describe('npm start', () => {
  it('creates the database, prints the demo key and answers { viewer } with it', async () => {
    const [, url] = await server.waitFor(/"url":"(http:\/\/localhost:\d+\/graphql)"/);
    const [, key] = await server.waitFor(/API key \(header X-Access-Key\): (tsk_\S+)/);
    const res = await fetch(url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-access-key': key! },
      body: JSON.stringify({
        query: '{ viewer { ... on Account { name plan } } tasks { ... on TaskConnection { totalCount } } }',
      }),
    });
    expect(await res.json()).toEqual({ data: { viewer: { name: 'demo', plan: 'SCALE' }, tasks: { totalCount: 5 } } });

    const page = await fetch(url!, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(html).toContain(key);
    expect(html).toContain('/graphiql-assets/yoga-graphiql.umd.js');
  });

  it('shuts down gracefully on SIGTERM to its whole process group', async () => {
    // What a terminal's Ctrl-C or `kill -- -<pgid>` does: every process gets it.
    process.kill(-server.child.pid!, 'SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output()).toContain('shutting down: finishing in-flight requests');
    expect(server.output()).toContain('"msg":"stopped"');
    expect(processesInGroup(server.child.pid!)).toEqual([]);
  });
});

describe('npm start on a port in use', () => {
  it('says so in one line, exits 1, and creates nothing', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const { port } = blocker.address() as { port: number };
    const empty = await createTestDatabase({ migrated: false });
    const failed = npmStart({ DATABASE_URL: empty.url, PORT: String(port) });
    try {
      const exit = await failed.exited;
      // The port is taken before the start migrates or seeds: no demo account
      // whose key nobody saw.
      await migrateDatabase(empty.url);
      const db = await openDatabase(empty.url);
      const accounts = await db.read.account.count().finally(() => db.close());
      expect({ exit, stderr: failed.stderr(), accounts }).toEqual({
        exit: { code: 1, signal: null },
        stderr: `Port ${port} is already in use (set PORT to another port).\n`,
        accounts: 0,
      });
    } finally {
      failed.killGroup();
      blocker.close();
      await empty.drop();
    }
  });
});

describe('npm start before its database answers', () => {
  it('takes the port at once and answers 503 with Retry-After (/health 200) while the runtime starts', async () => {
    // A PostgreSQL address that accepts connections and never answers: the
    // start waits on it (asynchronously) as on a database still booting.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port: dbPort } = silent.address() as { port: number };
    const waiting = npmStart({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${dbPort}/test?schema=s` });
    try {
      const [, port] = await waiting.waitFor(/"port":(\d+),"msg":"port bound, starting"/);
      const base = `http://localhost:${port}`;
      const graphql = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect([graphql.status, graphql.headers.get('retry-after')]).toEqual([503, '1']);
      expect((await fetch(`${base}/ready`)).status).toBe(503);
      expect((await fetch(`${base}/health`)).status).toBe(200);
      expect(waiting.output()).not.toContain('"msg":"listening"');
    } finally {
      waiting.killGroup();
      await waiting.exited;
      silent.close();
    }
  });
});
