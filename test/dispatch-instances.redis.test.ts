// Dispatchers as deployed: real server processes (`npm start`'s command) on
// one PostgreSQL schema, calling one real executor, on the real clock. Each
// scheduled time is claimed once across instances; a run whose instance is
// killed is taken over after its lease with the same run id; SIGTERM lets a
// run in flight finish and records it. (A .redis file: its project has
// PostgreSQL, which this needs whichever database the other projects test.)
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { insertAccount, insertApiKey } from '../src/services/accounts.js';
import { type Delivery, type Executor, startExecutor } from './helpers/executor.js';
import { type Proc, startProcess } from './helpers/instances.js';

const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const QUERY = 'url=https%3A%2F%2Fexample.com';

/** Run in afterAll, newest first, whatever failed before. */
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const clean of cleanups.reverse()) {
    try {
      await clean();
    } catch (err) {
      console.error('clean-up failed:', err);
    }
  }
}, 30_000);

async function postgresAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A migrated schema of its own, dropped after the file, and a connection to it. */
async function freshSchema(): Promise<{ url: string; db: Database }> {
  const schema = `dispatch_${process.pid}_${randomBytes(4).toString('hex')}`;
  await postgresAdmin(`CREATE SCHEMA "${schema}"`);
  cleanups.push(() => postgresAdmin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', schema);
  await migrateDatabase(url.toString());
  const db = await openDatabase(url.toString());
  cleanups.push(() => db.close());
  return { url: url.toString(), db };
}

async function executor(): Promise<Executor> {
  const ex = await startExecutor();
  cleanups.push(() => ex.close());
  return ex;
}

/** `npm start`'s process on the given schema and executor, resolved once 'listening'; killed in afterAll. */
function startInstance(databaseUrl: string, ex: Executor, env: Record<string, string> = {}): Promise<Proc> {
  return startProcess({
    name: 'instance',
    env: { DATABASE_URL: databaseUrl, REDIS_URL, EXECUTOR_URL: ex.url, EXECUTOR_SECRET: ex.secret, ...env },
    startTimeoutMs: 30_000,
    graceMs: 0,
    cleanups,
  });
}

/** Polls until `done()` holds; fails with `detail()` after `ms`. */
async function until(done: () => boolean | Promise<boolean>, ms: number, detail: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${detail()}`);
    await sleep(20);
  }
}

/**
 * The first whole second at least `leadMs` away whose next '* * * * *' time
 * is at least `clearMs` after it: that time (what a claim plans next) must not
 * come due while the test still counts runs.
 */
function dueSecond(leadMs: number, clearMs: number): number {
  const t = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
  const toMinute = 60_000 - (t % 60_000);
  return toMinute < clearMs ? t + toMinute : t;
}

const nextMinute = (ms: number) => (Math.floor(ms / 60_000) + 1) * 60_000;

interface Seeded {
  id: string;
  accountId: string;
}

/** `perAccount` ACTIVE '* * * * *' tasks in each of `accounts` SCALE accounts, stored as due at `dueAt`. */
async function seedTasks(db: Database, accounts: number, perAccount: number, dueAt: number): Promise<Seeded[]> {
  return db.transaction(async (tx) => {
    const seeded: Seeded[] = [];
    for (let i = 0; i < accounts; i++) {
      const accountId = await insertAccount(
        tx,
        { name: `account ${i}`, plan: 'SCALE', quotaLimit: 10_000 },
        Date.now(),
      );
      await insertApiKey(tx, accountId);
      for (let n = 0; n < perAccount; n++) seeded.push({ id: `t-${i}-${n}`, accountId });
    }
    await tx.task.createMany({
      data: seeded.map(({ id, accountId }) => ({
        id,
        accountId,
        name: id,
        api: 'SCREENSHOT' as const,
        query: QUERY,
        frequency: 'EVERY_MINUTE' as const,
        crontab: '* * * * *',
        timezone: 'Etc/UTC',
        nextRunAt: new Date(dueAt),
      })),
    });
    return seeded;
  });
}

const countBy = <T>(items: T[], key: (t: T) => string) =>
  items.reduce<Record<string, number>>((acc, t) => {
    acc[key(t)] = (acc[key(t)] ?? 0) + 1;
    return acc;
  }, {});

/** What a delivery must be for a seeded task at `dueAt`, attempt `attempt`. */
const deliveryOf = (t: Seeded, dueAt: number, attempt: number) => ({
  method: 'GET',
  url: `/exec/screenshot?${QUERY}`,
  taskId: t.id,
  accountId: t.accountId,
  scheduledFor: new Date(dueAt).toISOString(),
  attempt,
  signatureValid: true,
});

/**
 * Which process opened each client port connected to `serverPort`: the
 * executor only sees a remote port, the kernel knows its owner
 * (/proc/net/tcp maps the port to a socket inode, /proc/<pid>/fd the inode to
 * the process holding it).
 */
function portOwners(serverPort: number, pids: number[]): Map<number, number> {
  const inodeOwner = new Map<string, number>();
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue; // closed while we looked
      }
      const m = link.match(/^socket:\[(\d+)\]$/);
      if (m) inodeOwner.set(m[1]!, pid);
    }
  }
  const owners = new Map<number, number>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = Number.parseInt(f[1]!.split(':')[1]!, 16);
    const remote = Number.parseInt(f[2]!.split(':')[1]!, 16);
    const owner = inodeOwner.get(f[9]!);
    if (remote === serverPort && owner !== undefined) owners.set(local, owner);
  }
  return owners;
}

/** One scenario's database and executor. */
interface Setup {
  url: string;
  db: Database;
  ex: Executor;
}

async function setup(): Promise<Setup> {
  const { url, db } = await freshSchema();
  return { url, db, ex: await executor() };
}

// The executor's timeout is well above what the tests hold a call for, so an
// attempt ends by the executor's answer or by a kill; lease = 5 s + 5 s.
const RUN_ENV = { EXECUTOR_TIMEOUT_SECONDS: '5', RUN_MAX_ATTEMPTS: '3' };

let s1: Setup;
let s2: Setup;
let s3: Setup;
/** Scenario 1's pair, scenario 2's first instance, scenario 3's instance. */
let x: Proc;
let y: Proc;
let a: Proc;
let c: Proc;

// Every process starts at once: starting (tsx, migrations) is most of the wait.
beforeAll(async () => {
  [s1, s2, s3] = await Promise.all([setup(), setup(), setup()]);
  [x, y, a, c] = await Promise.all([
    startInstance(s1.url, s1.ex, RUN_ENV),
    startInstance(s1.url, s1.ex, RUN_ENV),
    startInstance(s2.url, s2.ex, RUN_ENV),
    // Scenario 3 holds calls for a second on a possibly busy machine: far from its timeout.
    startInstance(s3.url, s3.ex, { ...RUN_ENV, EXECUTOR_TIMEOUT_SECONDS: '10' }),
  ]);
}, 90_000);

describe('two instances, 200 tasks due at the same second', () => {
  it('delivers each task exactly once for that second, from both instances, and records 200 successes', async () => {
    const { db, ex } = s1;
    const ports = new Map<Delivery, number>();
    const arrived = new Map<Delivery, number>();
    // A short hold keeps both instances' 50 slots busy at once, as real work would.
    ex.answer((d, res) => {
      ports.set(d, res.socket!.remotePort!);
      arrived.set(d, Date.now());
      setTimeout(() => res.writeHead(200).end('{"ok":true}'), 50);
    });
    // Seeded after both listen, so neither instance has a head start.
    const dueAt = dueSecond(3_000, 15_000);
    const tasks = await seedTasks(db, 5, 40, dueAt);

    await until(
      async () => (await db.read.taskRun.count({ where: { outcome: { not: 'RUNNING' } } })) >= 200,
      dueAt - Date.now() + 30_000,
      () => `${ex.deliveries.length} deliveries`,
    );
    // While the keep-alive connections are open: who made each call.
    const owners = portOwners(Number(new URL(ex.url).port), [x.pid, y.pid]);
    // Each dispatcher passes at least once a second: long enough for a duplicate to show.
    await sleep(1_200);

    expect(ex.deliveries).toHaveLength(200);
    expect(new Set(ex.deliveries.map((d) => d.runId)).size).toBe(200);
    const byTask = new Map(ex.deliveries.map((d) => [d.taskId, d]));
    expect(byTask.size).toBe(200);
    for (const t of tasks) expect(byTask.get(t.id)).toMatchObject(deliveryOf(t, dueAt, 1));
    expect(Math.min(...arrived.values())).toBeGreaterThanOrEqual(dueAt); // never early

    const workers = countBy(ex.deliveries, (d) => String(owners.get(ports.get(d)!) ?? 'unknown'));
    expect(Object.keys(workers).sort()).toEqual([String(x.pid), String(y.pid)].sort());

    const runs = await db.read.taskRun.findMany();
    expect(runs).toHaveLength(200);
    for (const r of runs) {
      expect(r).toMatchObject({
        id: byTask.get(r.taskId)!.runId,
        trigger: 'SCHEDULE',
        scheduledFor: new Date(dueAt),
        outcome: 'SUCCEEDED',
        attempts: 1,
        httpStatus: 200,
        error: null,
        leaseUntil: null,
      });
    }
    const runOf = new Map(runs.map((r) => [r.taskId, r.id]));
    for (const t of await db.read.task.findMany()) {
      expect(t).toMatchObject({
        status: 'ACTIVE',
        inProgress: false,
        runs: 1,
        failureStreak: 0,
        lastRunId: runOf.get(t.id),
        // After a claim the next time comes from the crontab, not the seeded second.
        nextRunAt: new Date(nextMinute(dueAt)),
      });
    }
    expect((await db.read.account.findMany()).map((acc) => acc.quotaUsed)).toEqual([40, 40, 40, 40, 40]);
    const ms = (values: number[]) => {
      const sorted = values.sort((p, q) => p - q);
      return `p50 ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms`;
    };
    console.info(
      `200 runs: calls per instance ${Object.values(workers).join('/')}; ` +
        `startedAt - scheduledFor ${ms(runs.map((r) => r.startedAt!.getTime() - dueAt))}; ` +
        `call received - scheduledFor ${ms([...arrived.values()].map((at) => at - dueAt))}`,
    );
  }, 60_000);
});

describe('kill -9 of an instance holding runs', () => {
  it('another instance takes them over once their lease ends, with the same run id, and the tasks fire again', async () => {
    const { url, db, ex } = s2;
    const N = 20;
    const held: ServerResponse[] = [];
    ex.answer((_d, res) => {
      held.push(res); // never answered: A dies holding them
    });
    // The time a claim plans next must not come due before the takeover (it would be skipped as OVERLAP).
    const dueAt = dueSecond(3_000, 20_000);
    const tasks = await seedTasks(db, 2, N / 2, dueAt);
    await until(
      () => held.length >= N,
      dueAt - Date.now() + 20_000,
      () => a.output(),
    );
    const holding = Date.now();

    // B starts while A holds the runs; A is killed before its attempts (which
    // began at about the claim) time out after 5 s.
    const starting = startInstance(url, ex, RUN_ENV);
    const claimed = (await db.read.taskRun.aggregate({ _max: { startedAt: true } }))._max.startedAt!.getTime();
    await Promise.race([starting, sleep(claimed + 3_000 - Date.now())]);
    a.child.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    const arrived = new Map<Delivery, number>();
    ex.answer((d, res) => {
      arrived.set(d, Date.now());
      res.writeHead(200).end('{"ok":true}');
    });
    const b = await starting;
    const bReady = Date.now();

    expect(ex.deliveries).toHaveLength(N);
    const first = new Map(ex.deliveries.map((d) => [d.taskId, d]));
    for (const t of tasks) expect(first.get(t.id)).toMatchObject(deliveryOf(t, dueAt, 1));
    // What A left: N runs RUNNING on attempt 1, held until their lease ends; tasks in progress.
    const orphans = await db.read.taskRun.findMany();
    expect(orphans).toHaveLength(N);
    for (const r of orphans) {
      expect(r).toMatchObject({ outcome: 'RUNNING', attempts: 1, id: first.get(r.taskId)!.runId });
      expect(r.leaseUntil!.getTime() - r.startedAt!.getTime()).toBe(10_000);
    }
    const leaseOf = new Map(orphans.map((r) => [r.id, r.leaseUntil!.getTime()]));
    expect(await db.read.task.count({ where: { inProgress: true } })).toBe(N);
    // B dispatches before the leases end: that it waits for them is shown below.
    expect(bReady).toBeLessThan(Math.min(...leaseOf.values()));

    await until(
      async () => (await db.read.taskRun.count({ where: { outcome: 'RUNNING' } })) === 0,
      Math.max(...leaseOf.values()) - Date.now() + 10_000,
      () => `${ex.deliveries.length} deliveries; B:\n${b.output()}`,
    );
    await sleep(1_200);

    const retries = ex.deliveries.slice(N);
    expect(retries).toHaveLength(N);
    for (const d of retries) {
      const t = tasks.find((task) => task.id === d.taskId)!;
      expect(d).toMatchObject({ ...deliveryOf(t, dueAt, 2), runId: first.get(t.id)!.runId });
      expect(arrived.get(d)!).toBeGreaterThanOrEqual(leaseOf.get(d.runId)!);
    }
    for (const r of await db.read.taskRun.findMany()) {
      expect(r).toMatchObject({ outcome: 'SUCCEEDED', attempts: 2, httpStatus: 200, leaseUntil: null });
    }
    const M = nextMinute(dueAt);
    for (const t of await db.read.task.findMany()) {
      expect(t).toMatchObject({ inProgress: false, runs: 1, failureStreak: 0, nextRunAt: new Date(M) });
    }

    // Fires again at its next time: M when it is near; otherwise (up to a
    // minute away) the stored next time moves to a near second instead.
    let fireAt = M;
    if (M - Date.now() > 12_000) {
      fireAt = Math.ceil((Date.now() + 1_500) / 1000) * 1000;
      const moved = await db.transaction((tx) =>
        tx.task.updateMany({ where: { nextRunAt: new Date(M) }, data: { nextRunAt: new Date(fireAt) } }),
      );
      expect(moved.count).toBe(N);
    }
    await until(
      async () =>
        (await db.read.taskRun.count({ where: { scheduledFor: new Date(fireAt), outcome: 'SUCCEEDED' } })) === N,
      fireAt - Date.now() + 10_000,
      () => `${ex.deliveries.length} deliveries; B:\n${b.output()}`,
    );
    await sleep(1_200);
    const fired = ex.deliveries.slice(2 * N);
    expect(fired).toHaveLength(N);
    expect(new Set(fired.map((d) => d.taskId))).toEqual(new Set(tasks.map((t) => t.id)));
    expect(new Set(fired.map((d) => d.runId)).size).toBe(N);
    for (const d of fired) {
      expect(d).toMatchObject(deliveryOf(tasks.find((task) => task.id === d.taskId)!, fireAt, 1));
      expect(leaseOf.has(d.runId)).toBe(false); // a new run
    }
    for (const t of await db.read.task.findMany()) {
      expect(t).toMatchObject({ inProgress: false, runs: 2, nextRunAt: new Date(nextMinute(fireAt)) });
    }
    expect(countBy(await db.read.taskRun.findMany(), (r) => `${r.outcome}/${r.attempts}`)).toEqual({
      'SUCCEEDED/2': N,
      'SUCCEEDED/1': N,
    });
    // Nothing went wrong on B's side (a failed pass, a run failing unexpectedly).
    expect(b.lines().filter((l) => Number(l.level) >= 50)).toEqual([]);
    console.info(
      `takeover: B ready ${bReady - holding} ms after A held the runs; next time ${fireAt === M ? 'the crontab minute' : 'moved near'}`,
    );
  }, 90_000);
});

describe('SIGTERM to a dispatching instance while the executor holds its runs', () => {
  it('waits for the answer, records the runs SUCCEEDED, then exits 0', async () => {
    const { db, ex } = s3;
    const K = 3;
    const held: ServerResponse[] = [];
    let signalled = 0;
    ex.answer((_d, res) => {
      held.push(res);
      if (held.length === K) {
        signalled = Date.now();
        c.child.kill('SIGTERM');
      }
    });
    const dueAt = dueSecond(3_000, 10_000);
    const tasks = await seedTasks(db, 1, K, dueAt);
    await until(
      () => signalled > 0,
      dueAt - Date.now() + 10_000,
      () => c.output(),
    );
    await until(
      () => /"msg":"shutting down/.test(c.output()),
      5_000,
      () => c.output(),
    );

    // Held for a second: the process must still be there, the runs still RUNNING.
    await sleep(1_000);
    expect(c.child.exitCode).toBeNull();
    expect(await db.read.taskRun.count({ where: { outcome: 'RUNNING' } })).toBe(K);
    const answered = Date.now();
    for (const res of held) res.writeHead(200).end('{"ok":true}');

    const exit = await c.exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at).toBeGreaterThanOrEqual(answered);
    expect(c.lines().at(-1)).toMatchObject({ msg: 'stopped' });

    expect(ex.deliveries).toHaveLength(K);
    for (const t of tasks) {
      expect(ex.deliveries.find((d) => d.taskId === t.id)).toMatchObject(deliveryOf(t, dueAt, 1));
    }
    const runs = await db.read.taskRun.findMany();
    expect(runs).toHaveLength(K);
    for (const r of runs) {
      expect(r).toMatchObject({ outcome: 'SUCCEEDED', attempts: 1, httpStatus: 200, leaseUntil: null });
      expect(r.durationMs).toBeGreaterThanOrEqual(900);
    }
    for (const t of await db.read.task.findMany()) {
      expect(t).toMatchObject({ inProgress: false, runs: 1, failureStreak: 0 });
    }
  }, 60_000);
});
