// The variables that run schedules: what loadConfig accepts and refuses, and
// what a real start says about them (once, and never the secret).
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { insertAccount } from '../src/services/accounts.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { startExecutor } from './helpers/executor.js';
import { npmRun, npmStart, type Started } from './helpers/run.js';

const URL_ = 'https://executor.internal/run';
const SECRET = 'sixteen-chars-ok';

/** The problems a refused environment names (fails if it was accepted). */
function refused(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('loadConfig: running schedules', () => {
  it('has documented defaults: no executor, nothing dispatched', () => {
    expect(loadConfig({}).runs).toEqual({
      executorUrl: null,
      executorSecret: '',
      dispatch: false,
      timeoutMs: 30_000,
      concurrency: 50,
      retryBaseMs: 1_000,
      maxAttempts: 3,
      catchUpMs: 300_000,
      failuresToError: 5,
      retentionMs: 30 * 86_400_000,
    });
  });

  it('reads every variable, fractional seconds included', () => {
    expect(
      loadConfig({
        EXECUTOR_URL: 'http://127.0.0.1:8080/hooks/run/',
        EXECUTOR_SECRET: SECRET,
        EXECUTOR_TIMEOUT_SECONDS: '2.5',
        EXECUTOR_CONCURRENCY: '7',
        RUN_RETRY_BASE_SECONDS: '0.25',
        RUN_MAX_ATTEMPTS: '20',
        RUN_CATCH_UP_SECONDS: '0',
        RUN_FAILURES_TO_ERROR: '1',
        RUN_RETENTION_DAYS: '3650',
        SCHEDULER: 'on',
      }).runs,
    ).toEqual({
      executorUrl: 'http://127.0.0.1:8080/hooks/run/',
      executorSecret: SECRET,
      dispatch: true,
      timeoutMs: 2_500,
      concurrency: 7,
      retryBaseMs: 250,
      maxAttempts: 20,
      catchUpMs: 0,
      failuresToError: 1,
      retentionMs: 3650 * 86_400_000,
    });
  });

  it('dispatches only with an executor and SCHEDULER on (the default)', () => {
    expect(loadConfig({ EXECUTOR_URL: URL_, EXECUTOR_SECRET: SECRET }).runs.dispatch).toBe(true);
    expect(loadConfig({ EXECUTOR_URL: URL_, EXECUTOR_SECRET: SECRET, SCHEDULER: 'off' }).runs).toMatchObject({
      executorUrl: URL_,
      dispatch: false,
    });
    expect(loadConfig({ SCHEDULER: 'on' }).runs.dispatch).toBe(false);
    // An empty variable is unset: no executor, so no secret needed.
    expect(loadConfig({ EXECUTOR_URL: '', EXECUTOR_SECRET: '' }).runs).toMatchObject({
      executorUrl: null,
      dispatch: false,
    });
    for (const bad of ['yes', 'true', '1', 'disabled']) {
      expect(refused({ SCHEDULER: bad })).toContain(`SCHEDULER="${bad}"`);
    }
  });

  it('refuses an executor URL with a query, a fragment, another scheme or no scheme', () => {
    for (const bad of [
      'https://executor.internal/run?token=x',
      'https://executor.internal/run#frag',
      'ftp://executor.internal/run',
      'executor.internal/run',
      'not a url',
    ]) {
      expect(refused({ EXECUTOR_URL: bad, EXECUTOR_SECRET: SECRET })).toMatch(
        /EXECUTOR_URL=.*must be an http\(s\) URL/,
      );
    }
  });

  it('refuses an executor URL with credentials (fetch cannot send them; the error would keep them)', () => {
    // Node's fetch throws "Request cannot be constructed from a URL that
    // includes credentials: <the URL>" on every attempt, and that message
    // becomes the run's error, which runHistory shows to the account.
    expect(refused({ EXECUTOR_URL: 'https://user:pass@executor.internal/run', EXECUTOR_SECRET: SECRET })).toContain(
      'EXECUTOR_URL',
    );
  });

  it('requires EXECUTOR_SECRET with EXECUTOR_URL, of at least 16 characters', () => {
    expect(refused({ EXECUTOR_URL: URL_ })).toMatch(/EXECUTOR_SECRET: required with EXECUTOR_URL/);
    expect(refused({ EXECUTOR_URL: URL_, EXECUTOR_SECRET: '' })).toContain('EXECUTOR_SECRET');
    expect(refused({ EXECUTOR_URL: URL_, EXECUTOR_SECRET: 'fifteen-chars-x' })).toMatch(
      /EXECUTOR_SECRET=.*at least 16 characters/,
    );
    expect(loadConfig({ EXECUTOR_URL: URL_, EXECUTOR_SECRET: SECRET }).runs.executorSecret).toBe(SECRET);
  });

  it('does not echo a refused secret', () => {
    // The message goes to stderr and into the logs of a crash-looping process.
    expect(refused({ EXECUTOR_URL: URL_, EXECUTOR_SECRET: 'short-secret-15' })).not.toContain('short-secret-15');
  });

  it('refuses numbers out of range or of the wrong kind, naming each', () => {
    const message = refused({
      EXECUTOR_TIMEOUT_SECONDS: '0',
      EXECUTOR_CONCURRENCY: '0',
      RUN_RETRY_BASE_SECONDS: '-1',
      RUN_MAX_ATTEMPTS: '21',
      RUN_CATCH_UP_SECONDS: '1.5',
      RUN_FAILURES_TO_ERROR: 'five',
      RUN_RETENTION_DAYS: '0',
    });
    for (const name of [
      'EXECUTOR_TIMEOUT_SECONDS="0"',
      'EXECUTOR_CONCURRENCY="0"',
      'RUN_RETRY_BASE_SECONDS="-1"',
      'RUN_MAX_ATTEMPTS="21"',
      'RUN_CATCH_UP_SECONDS="1.5"',
      'RUN_FAILURES_TO_ERROR="five"',
      'RUN_RETENTION_DAYS="0"',
    ]) {
      expect(message).toContain(name);
    }
    expect(refused({ EXECUTOR_TIMEOUT_SECONDS: '3601' })).toContain('EXECUTOR_TIMEOUT_SECONDS');
    expect(refused({ RUN_CATCH_UP_SECONDS: String(7 * 86_400 + 1) })).toContain('RUN_CATCH_UP_SECONDS');
  });
});

describe('a real start and its runs settings', () => {
  const databases: TestDatabase[] = [];
  const started: Started[] = [];
  afterAll(async () => {
    for (const s of started) s.killGroup();
    await Promise.all(started.map((s) => s.exited));
    await Promise.all(databases.map((d) => d.drop()));
  });
  async function freshDatabase() {
    const db = await createTestDatabase({ migrated: false });
    databases.push(db);
    return db.url;
  }
  // Whatever the test runner's environment holds, these starts decide.
  const unset = { EXECUTOR_URL: '', EXECUTOR_SECRET: '', SCHEDULER: '' };
  async function start(env: Record<string, string>) {
    const server = npmStart({ DATABASE_URL: await freshDatabase(), ...unset, ...env });
    started.push(server);
    return server;
  }
  /** SIGTERM to the whole group, as a terminal's Ctrl-C does; then everything it printed. */
  async function stop(server: Started) {
    process.kill(-server.child.pid!, 'SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    return server.output();
  }
  const count = (text: string, part: string) => text.split(part).length - 1;

  // Concurrent: each start is a process of its own on a database of its own.
  it.concurrent('without EXECUTOR_URL says once that this deployment runs no tasks', async () => {
    const server = await start({});
    await server.waitFor(/"msg":"listening"/);
    const output = await stop(server);
    expect(count(output, 'no EXECUTOR_URL: this deployment runs no tasks (runTask answers SchedulerDisabled)')).toBe(1);
    expect(output).not.toContain('dispatcher on');
  });

  it.concurrent('with EXECUTOR_URL and no secret exits 1 before serving, naming EXECUTOR_SECRET', async () => {
    const server = await start({ EXECUTOR_URL: 'http://127.0.0.1:9/run' });
    expect(await server.exited).toEqual({ code: 1, signal: null });
    expect(server.stderr()).toContain('EXECUTOR_SECRET: required with EXECUTOR_URL');
    expect(server.output()).not.toContain('listening');
  });

  it.concurrent('npm run scheduler without EXECUTOR_URL exits 1 saying it needs one', async () => {
    const ran = await npmRun(['scheduler'], { DATABASE_URL: await freshDatabase(), ...unset });
    expect({ code: ran.code, stderr: ran.stderr }).toEqual({
      code: 1,
      stderr: 'The scheduler needs EXECUTOR_URL and EXECUTOR_SECRET: without an executor nothing can run.\n',
    });
  });

  it.concurrent('npm run scheduler alone (no port) runs a due task, then stops on SIGTERM with code 0', async () => {
    const ex = await startExecutor();
    try {
      const url = await freshDatabase();
      await migrateDatabase(url);
      const db = await openDatabase(url);
      let taskId = '';
      try {
        // A task due a moment ago, on the real clock the process runs on.
        taskId = await db.transaction(async (tx) => {
          const accountId = await insertAccount(
            tx,
            { name: 'ops', plan: 'SCALE', billing: 'OK', quotaLimit: 10, quotaUsed: 0, quotaResetAt: null },
            Date.now(),
          );
          const task = await tx.task.create({
            data: {
              id: 'sched-alone',
              accountId,
              name: 'alone',
              api: 'PDF',
              query: 'url=https%3A%2F%2Fexample.com',
              frequency: 'EVERY_DAY',
              crontab: '0 0 * * *',
              timezone: 'Etc/UTC',
              nextRunAt: new Date(Date.now() - 1000),
            },
          });
          return task.id;
        });
      } finally {
        await db.close();
      }
      const scheduler = npmStart(
        { DATABASE_URL: url, ...unset, EXECUTOR_URL: ex.url, EXECUTOR_SECRET: ex.secret, SCHEDULER: 'off' },
        'scheduler',
      );
      started.push(scheduler);
      await scheduler.waitFor(/"msg":"scheduler running"/);
      const end = Date.now() + 10_000;
      while (ex.deliveries.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(ex.deliveries).toHaveLength(1);
      expect(ex.deliveries[0]).toMatchObject({
        taskId,
        signatureValid: true,
        url: '/exec/pdf?url=https%3A%2F%2Fexample.com',
      });
      // SCHEDULER=off is for API instances: the scheduler process dispatches anyway.
      const output = await stop(scheduler);
      expect(output).not.toContain('"msg":"listening"');
      expect(output).toContain('"msg":"stopped"');
      const check = await openDatabase(url);
      try {
        expect(await check.read.taskRun.findMany({ where: { taskId } })).toMatchObject([{ outcome: 'SUCCEEDED' }]);
      } finally {
        await check.close();
      }
    } finally {
      await ex.close();
    }
  });

  it.concurrent('with EXECUTOR_URL and a secret dispatches, names the executor and never prints the secret', async () => {
    const secret = 'do-not-print-me-3f9a1c7e5b';
    const server = await start({
      EXECUTOR_URL: 'http://127.0.0.1:9/hooks/run',
      EXECUTOR_SECRET: secret,
      EXECUTOR_TIMEOUT_SECONDS: '1',
    });
    await server.waitFor(/"msg":"listening"/);
    const output = await stop(server);
    const line = output.split('\n').find((l) => l.includes('dispatcher on: due tasks run here'));
    expect(line && JSON.parse(line)).toMatchObject({ executor: 'http://127.0.0.1:9/hooks/run', timeoutMs: 1000 });
    expect(count(output, 'dispatcher on')).toBe(1);
    expect(output).not.toContain('no EXECUTOR_URL');
    expect(output).not.toContain(secret);
  });
});
