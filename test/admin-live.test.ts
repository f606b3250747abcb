// The admin CLI against the database a running `npm start` has open: an
// operator must be able to revoke a leaked key without stopping the service.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_PROVIDER, type TestDatabase } from './helpers/database.js';
import { npmRun, npmStart, type Ran, type Started } from './helpers/run.js';

// An admin command is a fresh npm + node + TypeScript loader; this bound is
// for that start-up on a busy machine, well under the 5 s SQLite lock wait
// plus engine start that the old "migrate first" took before failing.
const PROMPTLY_MS = 8_000;

let database: TestDatabase;
let server: Started;
let url: string;
let demoKey: string;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  dir = await mkdtemp(path.join(tmpdir(), 'admin-live-'));
  server = npmStart({ DATABASE_URL: database.url });
  [, url] = (await server.waitFor(/"url":"(http:\/\/localhost:\d+\/graphql)"/)) as [string, string];
  [, demoKey] = (await server.waitFor(/API key \(header X-Access-Key\): (tsk_\S+)/)) as [string, string];
});

afterAll(async () => {
  server.killGroup();
  await server.exited;
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

async function viewer(key: string): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-access-key': key },
    body: JSON.stringify({ query: '{ viewer { __typename ... on Account { name } } }' }),
  });
  return (await res.json()).data;
}

/** Runs an admin command and checks it succeeded at once; its JSON output. */
async function admin(...args: string[]) {
  const ran: Ran = await npmRun(['admin', '--', ...args], { DATABASE_URL: database.url });
  expect({ args, code: ran.code, stderr: ran.stderr }).toEqual({ args, code: 0, stderr: '' });
  expect(ran.ms).toBeLessThan(PROMPTLY_MS);
  return JSON.parse(ran.stdout);
}

describe(`admin commands while the server runs (${TEST_PROVIDER})`, () => {
  it('create-account, create-key, list-accounts and import succeed, and the server serves what they made', async () => {
    const created = await admin('create-account', '--plan', 'scale', '--name', 'live-co');
    expect(await viewer(created.apiKey)).toEqual({ viewer: { __typename: 'Account', name: 'live-co' } });

    const second = await admin('create-key', '--account', 'live-co');
    expect(second.accountId).toBe(created.accountId);
    expect(await viewer(second.apiKey)).toEqual({ viewer: { __typename: 'Account', name: 'live-co' } });

    const file = path.join(dir, 'import.json');
    const importedKey = 'live-import-key-0123456789';
    await writeFile(
      file,
      JSON.stringify({ accounts: [{ name: 'imported-co', plan: 'scale', quota: 100, api_keys: [importedKey] }] }),
    );
    expect((await admin('import', file)).imported).toMatchObject({ apiKeys: 1, accounts: [{ name: 'imported-co' }] });
    expect(await viewer(importedKey)).toEqual({ viewer: { __typename: 'Account', name: 'imported-co' } });

    const listed: { name: string; apiKeys: unknown[] }[] = await admin('list-accounts');
    expect(listed.map((a) => [a.name, a.apiKeys.length])).toEqual([
      ['demo', 1],
      ['live-co', 2],
      ['imported-co', 1],
    ]);
  });

  it("revoke-key takes effect on the server's next request", async () => {
    expect(await viewer(demoKey)).toEqual({ viewer: { __typename: 'Account', name: 'demo' } });
    expect(await admin('revoke-key', demoKey)).toEqual({ revoked: true });
    expect(await viewer(demoKey)).toEqual({ viewer: { __typename: 'Unauthorized' } });
  });
});
