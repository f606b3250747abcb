// The SQLite file removed or replaced under a running server. SQLite goes on
// reading and writing the file it opened (now unlinked, or renamed over), so
// every write acknowledged from then on would be lost at the next restart.
// The server must notice: /ready answers 503 and writes fail (masked) instead
// of being acknowledged. A whole runtime (createRuntime, as `npm start`
// builds it) answers over yoga's fetch. (A SQLite-file suite: it runs on
// SQLite in every vitest project.)
import { rename, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createRuntime } from '../src/runtime.js';
import { insertAccount, insertApiKey } from '../src/services/accounts.js';
import { sqliteTestDatabase } from './helpers/sqlite-file.js';

const CREATE = `mutation Create($name: String!) {
  createTask(input: { name: $name, api: PDF, query: "url=x", frequency: EVERY_DAY }) {
    __typename ... on CreateTaskSuccess { task { id } }
  }
}`;
const DELETE = 'mutation Delete($id: ID!) { deleteTask(id: $id) { __typename } }';
const MOVED = /database file .* was removed or replaced/;

async function startServer() {
  const database = await sqliteTestDatabase();
  const logLines: string[] = [];
  const logger = createLogger(
    'warn',
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  const runtime = await createRuntime(loadConfig({ NODE_ENV: 'production', DATABASE_URL: database.url }), logger);
  const { db } = runtime.deps;
  const newAccount = (name: string) =>
    db.transaction(async (tx) => {
      const id = await insertAccount(
        tx,
        { name, plan: 'SCALE', billing: 'OK', quotaLimit: 100, quotaUsed: 0, quotaResetAt: null },
        Date.now(),
      );
      return insertApiKey(tx, id);
    });
  const key = await newAccount('acme');
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const res = await runtime.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-access-key': key },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: Record<string, unknown> | null; errors?: { message: string }[] };
  };
  const ready = async () => (await runtime.app.fetch('http://localhost/ready')).status;
  const createTask = async (name: string) => {
    const body = await gql(CREATE, { name });
    return (body.data?.createTask as { task?: { id: string } } | null)?.task?.id;
  };
  return { database, runtime, logLines, newAccount, gql, ready, createTask };
}

type Server = Awaited<ReturnType<typeof startServer>>;

/**
 * Every write path refuses: both mutations answer the masked error, Prisma's
 * transactions throw, the operator's message is logged, and nothing changed
 * even in the file the server still has open.
 */
async function expectWritesRefused(s: Server, taskId: string) {
  for (const [query, variables, field] of [
    [CREATE, { name: 'after the move' }, 'createTask'],
    [DELETE, { id: taskId }, 'deleteTask'],
  ] as const) {
    const body = await s.gql(query, variables);
    expect(body.data).toEqual({ [field]: null });
    expect(body.errors).toMatchObject([{ message: 'Unexpected error.', path: [field] }]);
  }
  await expect(s.newAccount('after the move')).rejects.toThrow(MOVED);
  const errors = s.logLines.map((l) => JSON.parse(l) as { level: number; err?: { message: string } });
  expect(errors.filter((l) => l.level === 50 && MOVED.test(l.err?.message ?? ''))).toHaveLength(2);
  const { read } = s.runtime.deps.db;
  expect(await read.task.findMany({ select: { id: true } })).toEqual([{ id: taskId }]);
  expect(await read.account.count({ where: { name: 'after the move' } })).toBe(0);
  expect((await read.account.findFirstOrThrow({ where: { name: 'acme' } })).quotaUsed).toBe(1);
}

describe('the SQLite file under a running server', () => {
  it('removed: /ready answers 503 and writes fail (masked) instead of being acknowledged', async () => {
    const s = await startServer();
    try {
      expect(await s.ready()).toBe(200);
      const taskId = await s.createTask('before');
      expect(taskId).toBeTruthy();
      for (const suffix of ['', '-wal', '-shm']) await rm(s.database.file + suffix, { force: true });
      expect(await s.ready()).toBe(503);
      const warned = s.logLines.map((l) => JSON.parse(l) as { msg: string; err?: { message: string } });
      expect(warned.some((l) => l.msg === 'not ready' && MOVED.test(l.err?.message ?? ''))).toBe(true);
      await expectWritesRefused(s, taskId!);
      expect(await s.ready()).toBe(503);
    } finally {
      await s.runtime.close();
      await s.database.drop();
    }
  });

  it('replaced by another database renamed over it: the same', async () => {
    const s = await startServer();
    const replacement = await sqliteTestDatabase();
    try {
      const taskId = await s.createTask('before');
      expect(taskId).toBeTruthy();
      await rename(replacement.file, s.database.file);
      expect(await s.ready()).toBe(503);
      await expectWritesRefused(s, taskId!);
      expect(await s.ready()).toBe(503);
    } finally {
      await s.runtime.close();
      await s.database.drop();
      await replacement.drop();
    }
  });
});
