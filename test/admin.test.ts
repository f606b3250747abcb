// The operator CLI, run as operators run it: `npm run admin -- …`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';
import { hashApiKey } from '../src/services/api-keys.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { npmRun } from './helpers/run.js';

let dir: string;
let env: Record<string, string>;
const databases: TestDatabase[] = [];
/** An empty, unmigrated database: the CLI must migrate it itself. */
async function emptyDatabase() {
  const db = await createTestDatabase({ migrated: false });
  databases.push(db);
  return db.url;
}
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'admin-'));
  env = { DATABASE_URL: await emptyDatabase() };
});
afterAll(async () => {
  await Promise.all(databases.map((d) => d.drop()));
  await rm(dir, { recursive: true, force: true });
});

type Entry = Record<string, unknown>;
const goodFile: { accounts: (Entry & { plan: string; tasks: Entry[] })[] } = {
  accounts: [
    {
      name: 'acme',
      plan: 'scale',
      billing: 'ok',
      quota: 1000,
      quota_used: 12,
      api_keys: ['acme-plain-key-0123456789'],
      tasks: [
        {
          id: '5650820808835072',
          name: 'task screenshot',
          api: 'screenshot',
          query: 'url=https%3A%2F%2Fexample.com',
          frequency: 'every_month',
          crontab: '34 9 28 * *',
          timezone: 'Etc/UTC',
          enabled: true,
          created: 1714296566,
          last_run: 1745832566,
          runs: 12,
          status: 'active',
          in_progress: false,
        },
        {
          id: 'SC-1234-1234-1234-1234-1234-1234',
          name: 'pending',
          api: 'pdf',
          query: 'url=x',
          frequency: 'every_day',
          status: 'CREATE-PENDING',
        },
        {
          id: 'gsvyz98boa',
          name: 'erroring',
          api: 'scrape',
          query: 'url=x',
          frequency: 'custom',
          crontab: '*/5 * * * *',
          status: 'error',
          in_progress: true,
        },
      ],
    },
    { name: 'unpaid-co', plan: 'GROWTH', billing: 'UNPAID', quota: 10, api_keys: [], tasks: [] },
  ],
};

async function write(name: string, data: unknown) {
  const file = path.join(dir, name);
  await writeFile(file, typeof data === 'string' ? data : JSON.stringify(data));
  return file;
}

describe('npm run admin -- import', () => {
  it('rejects a bad file whole, naming each bad entry, and loads nothing', async () => {
    const bad = structuredClone(goodFile);
    bad.accounts[0]!.tasks[1]!.status = 'sleeping';
    bad.accounts[0]!.tasks[2]!.crontab = '99 * * * *';
    bad.accounts[0]!.tasks.push({ ...bad.accounts[0]!.tasks[0]!, query: 'url=x&access_key=leak' });
    bad.accounts[1]!.plan = 'platinum';
    const ran = await npmRun(['admin', '--', 'import', await write('bad.json', bad)], env);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('Import rejected, nothing was loaded');
    expect(ran.stderr).toContain('accounts[0] ("acme").tasks[1].status: must be one of active, paused');
    expect(ran.stderr).toContain(
      'accounts[0] ("acme").tasks[2] (id "gsvyz98boa").crontab: Invalid crontab "99 * * * *"',
    );
    expect(ran.stderr).toContain('accounts[0] ("acme").tasks[3] (id "5650820808835072"): the same id is also given at');
    expect(ran.stderr).toContain(
      'accounts[0] ("acme").tasks[3] (id "5650820808835072").query: query must not contain access_key',
    );
    expect(ran.stderr).toContain('accounts[1].plan: must be one of free, basic, growth, scale');
    const db = await openDatabase(env.DATABASE_URL!);
    try {
      expect(await db.read.account.count()).toBe(0);
      expect(await db.read.task.count()).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('rejects a file that is not JSON', async () => {
    const ran = await npmRun(['admin', '--', 'import', await write('broken.json', '{"accounts": [')], env);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/broken\.json: .*JSON/);
  });

  it('loads accounts, hashed keys and tasks in the public Task API shape, and reports them', async () => {
    const ran = await npmRun(['admin', '--', 'import', await write('good.json', goodFile)], env);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    const report = JSON.parse(ran.stdout).imported;
    expect(report).toMatchObject({
      apiKeys: 1,
      tasks: 3,
      accounts: [{ name: 'acme', apiKeys: 1, tasks: 3 }, { name: 'unpaid-co' }],
    });

    const db = await openDatabase(env.DATABASE_URL!);
    try {
      const acme = await db.read.account.findFirstOrThrow({
        where: { name: 'acme' },
        include: { apiKeys: true, tasks: true },
      });
      expect(acme).toMatchObject({ plan: 'SCALE', billing: 'OK', quotaLimit: 1000, quotaUsed: 12 });
      expect(acme.apiKeys[0]!.keyHash).toBe(hashApiKey('acme-plain-key-0123456789'));
      const byId = Object.fromEntries(acme.tasks.map((t) => [t.id, t]));
      expect(byId['5650820808835072']).toMatchObject({
        api: 'SCREENSHOT',
        frequency: 'EVERY_MONTH',
        crontab: '34 9 28 * *',
        status: 'ACTIVE',
        runs: 12,
        createdAt: new Date(1714296566_000),
        lastRunAt: new Date(1745832566_000),
      });
      expect(byId['SC-1234-1234-1234-1234-1234-1234']).toMatchObject({
        status: 'CREATE_PENDING',
        crontab: '0 0 * * *',
        inProgress: false,
      });
      // in_progress of the exporting system is not a run here: never stuck in progress.
      expect(byId.gsvyz98boa).toMatchObject({ status: 'ERROR', inProgress: false });
      const unpaid = await db.read.account.findFirstOrThrow({ where: { name: 'unpaid-co' } });
      expect(unpaid).toMatchObject({ plan: 'GROWTH', billing: 'UNPAID', quotaUsed: 0 });
    } finally {
      await db.close();
    }
  });

  it('refuses to load the same tasks and keys twice', async () => {
    const ran = await npmRun(['admin', '--', 'import', await write('again.json', goodFile)], env);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('a task with this id already exists');
    expect(ran.stderr).toContain('this API key is already in use');
  });
});

describe('npm run admin -- create-account / create-key / revoke-key', () => {
  it('creates an account and prints its id and API key as JSON, on an empty database', async () => {
    const fresh = { DATABASE_URL: await emptyDatabase() };
    const ran = await npmRun(['admin', '--', 'create-account', '--plan', 'scale', '--name', 'newco'], fresh);
    expect(ran.code).toBe(0);
    const out = JSON.parse(ran.stdout);
    expect(out).toMatchObject({ name: 'newco', plan: 'SCALE', billing: 'OK', quotaLimit: 1000 });
    expect(out.accountId).toEqual(expect.any(String));
    expect(out.apiKey).toMatch(/^tsk_[A-Za-z0-9_-]{43}$/);

    const key2 = JSON.parse(
      (await npmRun(['admin', '--', 'create-key', '--account', out.accountId], fresh)).stdout,
    ).apiKey;
    expect(key2).not.toBe(out.apiKey);
    const revoked = await npmRun(['admin', '--', 'revoke-key', key2], fresh);
    expect(JSON.parse(revoked.stdout)).toEqual({ revoked: true });
    const again = await npmRun(['admin', '--', 'revoke-key', key2], fresh);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('no live key matches');
  });

  it('explains its usage on a bad plan', async () => {
    const ran = await npmRun(['admin', '--', 'create-account', '--plan', 'gold'], env);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('--plan must be one of free, basic, growth, scale');
  });
});

describe('npm run admin -- list-accounts / create-key --account <id or name>', () => {
  let fresh: Record<string, string>;
  let solo: { accountId: string; apiKey: string };
  beforeAll(async () => {
    fresh = { DATABASE_URL: await emptyDatabase() };
    const twins = [1, 2].map((n) => ({
      name: 'twin',
      plan: 'basic',
      quota: n,
      api_keys: [`twin-${n}-plain-key-0123456789`],
    }));
    const imported = await npmRun(['admin', '--', 'import', await write('twins.json', { accounts: twins })], fresh);
    expect(imported.code).toBe(0);
    const created = await npmRun(['admin', '--', 'create-account', '--plan', 'scale', '--name', 'solo'], fresh);
    solo = JSON.parse(created.stdout);
  });

  const list = async () => {
    const ran = await npmRun(['admin', '--', 'list-accounts'], fresh);
    expect(ran.code).toBe(0);
    return ran.stdout;
  };

  it('lists every account with plan, billing, quota, task count and key prefixes, never a key or its hash', async () => {
    const revoked = await npmRun(['admin', '--', 'revoke-key', 'twin-2-plain-key-0123456789'], fresh);
    expect(revoked.code).toBe(0);
    const stdout = await list();
    for (const key of [solo.apiKey, 'twin-1-plain-key-0123456789', 'twin-2-plain-key-0123456789']) {
      expect(stdout).not.toContain(key);
      expect(stdout).not.toContain(hashApiKey(key));
    }
    const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
    const listed = JSON.parse(stdout);
    // Oldest first; the twins were imported together, so their order is by id.
    expect(listed.map((a: { name: string }) => a.name)).toEqual(['twin', 'twin', 'solo']);
    const twin = (limit: number) => listed.find((a: { quota: { limit: number } }) => a.quota.limit === limit);
    expect(twin(1)).toEqual({
      id: expect.any(String),
      name: 'twin',
      plan: 'BASIC',
      billing: 'OK',
      quota: { limit: 1, used: 0, resetAt: iso },
      tasks: 0,
      createdAt: iso,
      apiKeys: [{ prefix: 'twin-1-pla', createdAt: iso, revokedAt: null }],
    });
    expect(twin(2).apiKeys).toEqual([{ prefix: 'twin-2-pla', createdAt: iso, revokedAt: iso }]);
    expect(listed[2]).toMatchObject({
      id: solo.accountId,
      plan: 'SCALE',
      apiKeys: [{ prefix: solo.apiKey.slice(0, 10), createdAt: iso, revokedAt: null }],
    });
  });

  it('counts tasks', async () => {
    const file = await write('with-tasks.json', {
      accounts: [
        {
          name: 'busy',
          plan: 'scale',
          quota: 10,
          tasks: ['a', 'b'].map((id) => ({
            id: `busy-${id}`,
            name: id,
            api: 'pdf',
            query: 'url=x',
            frequency: 'every_day',
          })),
        },
      ],
    });
    expect((await npmRun(['admin', '--', 'import', file], fresh)).code).toBe(0);
    const busy = JSON.parse(await list()).find((a: { name: string }) => a.name === 'busy');
    expect(busy).toMatchObject({ tasks: 2, apiKeys: [] });
  });

  it('create-key takes an account id or a unique name', async () => {
    const byId = await npmRun(['admin', '--', 'create-key', '--account', solo.accountId], fresh);
    expect(JSON.parse(byId.stdout)).toMatchObject({ accountId: solo.accountId, name: 'solo' });
    const byName = await npmRun(['admin', '--', 'create-key', '--account', 'solo'], fresh);
    const { accountId, apiKey } = JSON.parse(byName.stdout);
    expect(accountId).toBe(solo.accountId);
    expect(apiKey).toMatch(/^tsk_/);
    const keys = JSON.parse(await list()).find((a: { id: string }) => a.id === solo.accountId).apiKeys;
    expect(keys.map((k: { prefix: string }) => k.prefix)).toContain(apiKey.slice(0, 10));
    expect(keys).toHaveLength(3);
  });

  it('create-key refuses an ambiguous name, listing the matching ids, and an unknown account', async () => {
    const twinIds = JSON.parse(await list())
      .filter((a: { name: string }) => a.name === 'twin')
      .map((a: { id: string }) => a.id);
    const ambiguous = await npmRun(['admin', '--', 'create-key', '--account', 'twin'], fresh);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(`2 accounts are named "twin"; give one of their ids: ${twinIds.join(', ')}`);
    expect(ambiguous.stdout).toBe('');

    const unknown = await npmRun(['admin', '--', 'create-key', '--account', 'nobody'], fresh);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no account has the id or name "nobody"');
    // Neither made a key.
    const keyCount = JSON.parse(await list()).reduce((n: number, a: { apiKeys: unknown[] }) => n + a.apiKeys.length, 0);
    expect(keyCount).toBe(5);
  });
});
