// Two server processes behind "a load balancer" (requests alternate between
// them), sharing one PostgreSQL database and one Redis: every guarantee must
// hold across instances, not just inside one.
import { type ChildProcess, spawn } from 'node:child_process';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';
import { CancelScheduleDocument, TaskDocument } from '../src/generated/client/graphql.js';
import { insertAccount, insertApiKey } from '../src/services/accounts.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Instance {
  child: ChildProcess;
  url: string;
  output: string[];
}

let database: TestDatabase;
const instances: Instance[] = [];

function start(databaseUrl: string): Promise<Instance> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: new URL('..', import.meta.url),
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: '0',
        DATABASE_URL: databaseUrl,
        REDIS_URL,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const timer = setTimeout(() => reject(new Error(`instance did not start:\n${output.join('')}`)), 30_000);
    const onData = (d: Buffer) => {
      output.push(String(d));
      const m = output.join('').match(/"url":"(http:\/\/localhost:\d+\/graphql)"/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => output.push(String(d)));
    child.once('exit', (code) => reject(new Error(`instance exited (${code}):\n${output.join('')}`)));
  });
}

async function seed() {
  const db = await openDatabase(database.url);
  try {
    return await db.transaction(async (tx) => {
      const make = async (name: string) => {
        const id = await insertAccount(tx, { name, plan: 'SCALE', quotaLimit: 10_000 }, Date.now());
        return { id, key: await insertApiKey(tx, id) };
      };
      const reader = await make('reader');
      const canceller = await make('canceller');
      await tx.task.createMany({
        data: [reader, canceller].map((a, i) => ({
          id: `shared-${i}`,
          accountId: a.id,
          name: 'shared',
          api: 'SCREENSHOT' as const,
          query: 'url=x',
          frequency: 'EVERY_DAY' as const,
          crontab: '0 0 * * *',
          timezone: 'Etc/UTC',
        })),
      });
      return { reader, canceller };
    });
  } finally {
    await db.close();
  }
}

const typenames = (answers: { __typename: string }[]) =>
  answers.reduce<Record<string, number>>((acc, a) => {
    acc[a.__typename] = (acc[a.__typename] ?? 0) + 1;
    return acc;
  }, {});

async function post(instance: Instance, key: string, query: string, variables: object) {
  const res = await fetch(instance.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-access-key': key },
    body: JSON.stringify({ query, variables }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: Record<string, { __typename: string; scope?: string }>; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data;
}

let accounts: Awaited<ReturnType<typeof seed>>;

beforeAll(async () => {
  database = await createTestDatabase();
  accounts = await seed();
  // Both start (and migrate) at once, as a deployment would.
  instances.push(...(await Promise.all([start(database.url), start(database.url)])));
}, 90_000);

afterAll(async () => {
  await Promise.all(
    instances.map(
      (i) =>
        new Promise<void>((resolve) => {
          if (i.child.exitCode !== null) return resolve();
          i.child.once('exit', () => resolve());
          i.child.kill('SIGTERM');
        }),
    ),
  );
  await database.drop();
});

describe('two instances sharing PostgreSQL and Redis', () => {
  it('are both healthy and ready', async () => {
    for (const i of instances) {
      const base = i.url.replace(/\/graphql$/, '');
      expect((await fetch(`${base}/health`)).status).toBe(200);
      expect((await fetch(`${base}/ready`)).status).toBe(200);
    }
    expect(instances[0]!.url).not.toBe(instances[1]!.url);
  });

  it('admit exactly 60 of 100 concurrent operations of one account', async () => {
    const query = print(TaskDocument);
    const answers = await Promise.all(
      Array.from(
        { length: 100 },
        async (_, n) => (await post(instances[n % 2]!, accounts.reader.key, query, { id: 'shared-0' })).task!,
      ),
    );
    expect(typenames(answers)).toEqual({ Task: 60, RateLimited: 40 });
  });

  it('give exactly one success for 20 concurrent cancels of one schedule split across both', async () => {
    const query = print(CancelScheduleDocument);
    const answers = await Promise.all(
      Array.from(
        { length: 20 },
        async (_, n) =>
          (await post(instances[n % 2]!, accounts.canceller.key, query, { id: 'shared-1' })).cancelSchedule!,
      ),
    );
    expect(typenames(answers)).toEqual({ CancelScheduleSuccess: 1, InvalidStatus: 9, RateLimited: 10 });
    expect(answers.filter((a) => a.__typename === 'RateLimited').every((a) => a.scope === 'SCHEDULE')).toBe(true);
  });

  it('log JSON lines with a request id, and shut down gracefully on SIGTERM', async () => {
    const res = await fetch(instances[0]!.url.replace(/\/graphql$/, '/health'), {
      headers: { 'x-request-id': 'lb-42' },
    });
    expect(res.headers.get('x-request-id')).toBe('lb-42');
    for (const i of instances) {
      const exited = new Promise<number | null>((resolve) => i.child.once('exit', resolve));
      i.child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = i.output
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => l.msg === 'request' && typeof l.requestId === 'string' && l.path === '/graphql')).toBe(
        true,
      );
      expect(lines.at(-1)).toMatchObject({ msg: 'stopped' });
    }
    expect(instances[0]!.output.join('')).toContain('"requestId":"lb-42"');
  });
});
