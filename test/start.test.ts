// `npm start` on an empty database, as a new user runs it: it migrates, seeds
// the demo account, prints its key, and answers GraphiQL's viewer query.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let database: TestDatabase;
let child: ChildProcess;
let output = '';

function waitFor(pattern: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`)), ms);
    const check = () => {
      const m = output.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      } else setTimeout(check, 50);
    };
    check();
  });
}

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  child = spawn('npm', ['start', '--silent'], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, NODE_ENV: 'development', PORT: '0', DATABASE_URL: database.url },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
});

afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
  await database.drop();
});

describe('npm start', () => {
  it('creates the database, prints the demo key and answers { viewer } with it', async () => {
    const [, url] = await waitFor(/"url":"(http:\/\/localhost:\d+\/graphql)"/);
    const [, key] = await waitFor(/API key \(header X-Access-Key\): (tsk_\S+)/);
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

  it('shuts down gracefully on SIGTERM', async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
    // npm itself dies of the signal; the server logs its orderly stop.
    await waitFor(/"msg":"stopped"/, 5_000);
    expect(output).toContain('shutting down: finishing in-flight requests');
  });
});
