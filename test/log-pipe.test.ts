// A server whose log reader went away (a crashed log shipper) must still stop
// on SIGTERM: pino's own exit flush retried a broken pipe forever.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const databases: TestDatabase[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  // Also when the test timed out: never leave a server behind.
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const db of databases) await db.drop();
});

it('stops on SIGTERM within seconds when nothing reads its stdout any more', async () => {
  const db = await createTestDatabase({ migrated: false });
  databases.push(db);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, DATABASE_URL: db.url, PORT: '0', NODE_ENV: 'production', EXECUTOR_URL: '' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  try {
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stdout.on('data', (d) => {
        seen += d;
        if (seen.includes('"msg":"listening"')) resolve();
      });
      child.once('exit', () => reject(new Error(`exited before listening: ${seen}`)));
    });
    // The reader goes away: every later write to stdout is a broken pipe.
    child.stdout.destroy();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const started = Date.now();
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
