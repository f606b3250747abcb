// W10, the dispatcher (issue 11): 1,000 tasks due at the same second, an
// executor answering each GET in 20 ms, on SQLite. The real Dispatcher,
// started with start() on the system clock, claims, calls and records every
// run; the bench measures runs per second, the lateness of each run
// (startedAt − scheduledFor, as the run rows record it) and the time until the
// last run is recorded, against the ideal (tasks / concurrency × 20 ms: 0.4 s
// at 50 in flight) and two references on the same executor in the same run:
//
// - **client-ref** — the project's own executor client (callExecutor: URL,
//   HMAC signature, timeout, body prefix) at the same concurrency, no database:
//   what the dispatcher would take if claiming and recording cost nothing;
// - **bare-ref** — plain `fetch` of the same 1,000 URLs at the same
//   concurrency: the limit of Node's HTTP client and this machine.
//
// Exactly once is checked every round, from both ends: the executor must have
// received each task once (1,000 deliveries, 1,000 distinct task ids and run
// ids, every signature valid, every X-Scheduled-For the due second) and the
// database must hold 1,000 SUCCEEDED runs of one attempt, one per task, whose
// ids are the delivered ones, and every task released with its next time
// planned. A violation is reported as a failed target and fails the bench.
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { NO_EXECUTOR, type RunSettings } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { storedTime } from '../src/db/sqlite-rows.js';
import { Dispatcher } from '../src/dispatcher/dispatcher.js';
import { callExecutor } from '../src/dispatcher/executor-client.js';
import { verifySignature } from '../src/dispatcher/signature.js';
import { createLogger } from '../src/logger.js';
import { systemClock } from '../src/services/clock.js';
import { MemoryEventBus } from '../src/services/events/memory-bus.js';
import { newId } from '../src/services/ids.js';
import { buildFixture, copyFixture } from './fixture.js';

export const DISPATCH_WORKLOAD = 10;

export interface DispatchConfig {
  /** Where the workload's databases live (removed at the end). */
  dir: string;
  tasks: number;
  accounts: number;
  /** Runs in flight (the dispatcher's EXECUTOR_CONCURRENCY, the references' pool). */
  concurrency: number;
  /** How long the executor takes to answer each call. */
  executorMs: number;
  rounds: number;
  /** One unmeasured round of each runner first. */
  warmup: boolean;
}

export type DispatchRunner = 'dispatcher' | 'client-ref' | 'bare-ref';
export const DISPATCH_RUNNERS: DispatchRunner[] = ['dispatcher', 'client-ref', 'bare-ref'];

export interface DispatchMeasurement {
  /** Runs per second: tasks over totalMs. */
  runsPerSecond: number;
  /** startedAt − scheduledFor (references: the call's start − the moment all were due). */
  latenessP50: number;
  latenessP99: number;
  latenessMax: number;
  /** When the executor received each call, after the due time (p99). */
  receivedP99: number;
  /** From the due time until the last run was recorded (references: answered). */
  totalMs: number;
  /**
   * CPU time of this process (user + system) over that span: the runner, the
   * executor and Node's HTTP client on both ends. Less sensitive than the
   * times to other processes on a shared machine.
   */
  cpuMs: number;
  delivered: number;
  distinctTasks: number;
  distinctRuns: number;
  /** Run rows SUCCEEDED in one attempt (references: 2xx answers). */
  succeeded: number;
  /** What broke exactly-once (or the run), empty when nothing did. */
  problems: string[];
}

export interface DispatchResult {
  config: Omit<DispatchConfig, 'dir'>;
  idealMs: number;
  /** Every measured round of each runner. */
  rounds: Record<DispatchRunner, DispatchMeasurement[]>;
  /** Medians over the rounds (counts: the worst round). */
  median: Record<DispatchRunner, DispatchMeasurement>;
  /** Every problem of every round, warm-up included, prefixed with runner and round. */
  problems: string[];
}

const SECRET = 'bench-executor-secret-0123456789';

// ------------------------------------------------------------- executor

interface Delivery {
  taskId: string;
  runId: string;
  scheduledFor: string;
  /** Date.now() when the request arrived. */
  at: number;
  signed: boolean;
}

/**
 * The execution service: node:http with keep-alive, answering 200 after
 * `delayMs`, verifying each signature as the README tells operators to and
 * recording what it received.
 */
async function startExecutor(delayMs: number) {
  let deliveries: Delivery[] = [];
  let expected = Number.POSITIVE_INFINITY;
  let reached: (() => void) | undefined;
  const server: Server = createServer((req, res) => {
    const runId = String(req.headers['x-run-id']);
    const header = req.headers['x-signature'];
    deliveries.push({
      taskId: String(req.headers['x-task-id']),
      runId,
      scheduledFor: String(req.headers['x-scheduled-for']),
      at: Date.now(),
      signed:
        typeof header === 'string' &&
        verifySignature(
          header,
          SECRET,
          { method: req.method ?? '', pathAndQuery: req.url ?? '', runId },
          Math.floor(Date.now() / 1000),
        ),
    });
    if (deliveries.length >= expected) reached?.();
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' }).end('{"ok":true}');
    }, delayMs);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/exec`,
    /** Forgets what it received; `received` resolves once `count` calls arrived (or after `timeoutMs`). */
    expect(count: number, timeoutMs: number) {
      deliveries = [];
      expected = count;
      return {
        received: new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), timeoutMs);
          reached = () => {
            clearTimeout(timer);
            resolve(true);
          };
        }),
        deliveries: () => deliveries,
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Executor = Awaited<ReturnType<typeof startExecutor>>;

// --------------------------------------------------------------- helpers

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
/** Nearest-rank percentile. */
export const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

/**
 * The due second: whole, 1.5–2.5 s ahead, and at least 10 s before the next
 * minute — every task is '* * * * *', so its next time is the next minute, and
 * a round (~1 s) must not reach it (a second delivery would be correct there,
 * but this check counts one per task).
 */
async function dueSecond(): Promise<number> {
  for (;;) {
    const t = Math.ceil((Date.now() + 1500) / 1000) * 1000;
    const toNextMinute = 60_000 - (t % 60_000);
    if (toNextMinute >= 10_000) return t;
    await sleep(toNextMinute + 50);
  }
}

/** Runs `count` jobs, at most `concurrency` at once. */
export async function pool(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

// --------------------------------------------------------------- runners

interface Round {
  file: string;
  taskIds: string[];
  executor: Executor;
  cfg: DispatchConfig;
}

/** Deliveries against the tasks: what the executor's side of exactly-once says. */
function deliveryChecks(
  deliveries: Delivery[],
  taskIds: Set<string>,
  dueIso: string | null,
): Pick<DispatchMeasurement, 'delivered' | 'distinctTasks' | 'distinctRuns' | 'problems'> {
  const problems: string[] = [];
  const perTask = new Map<string, number>();
  for (const d of deliveries) perTask.set(d.taskId, (perTask.get(d.taskId) ?? 0) + 1);
  const distinctRuns = new Set(deliveries.map((d) => d.runId)).size;
  if (deliveries.length !== taskIds.size) problems.push(`${deliveries.length} deliveries for ${taskIds.size} tasks`);
  const twice = [...perTask].filter(([, n]) => n > 1);
  if (twice.length > 0)
    problems.push(`${twice.length} tasks delivered more than once, e.g. ${twice[0]![0]} ×${twice[0]![1]}`);
  const missing = [...taskIds].filter((id) => !perTask.has(id));
  if (missing.length > 0) problems.push(`${missing.length} tasks never delivered, e.g. ${missing[0]}`);
  const strangers = [...perTask.keys()].filter((id) => !taskIds.has(id));
  if (strangers.length > 0) problems.push(`${strangers.length} unknown task ids delivered, e.g. ${strangers[0]}`);
  if (distinctRuns !== deliveries.length)
    problems.push(`${distinctRuns} distinct run ids in ${deliveries.length} deliveries`);
  if (dueIso !== null) {
    const unsigned = deliveries.filter((d) => !d.signed).length;
    if (unsigned > 0) problems.push(`${unsigned} deliveries with an invalid signature`);
    const wrongTime = deliveries.filter((d) => d.scheduledFor !== dueIso).length;
    if (wrongTime > 0) problems.push(`${wrongTime} deliveries not scheduled for ${dueIso}`);
  }
  return { delivered: deliveries.length, distinctTasks: perTask.size, distinctRuns, problems };
}

/** The real dispatcher on a fresh copy of the database, every task due at one second. */
async function dispatcherRound({ file, taskIds, executor, cfg }: Round): Promise<DispatchMeasurement> {
  const url = `file:${file}`;
  const runs: RunSettings = {
    ...NO_EXECUTOR,
    executorUrl: executor.url,
    executorSecret: SECRET,
    dispatch: true,
    concurrency: cfg.concurrency,
  };
  const db = await openDatabase(url);
  const raw = new Database(file, { timeout: 5000 });
  let dispatcher: Dispatcher | undefined;
  try {
    const due = await dueSecond();
    const dueIso = new Date(due).toISOString();
    raw
      .prepare(`UPDATE Task SET crontab = '* * * * *', frequency = 'EVERY_MINUTE', timezone = 'Etc/UTC', nextRunAt = ?`)
      .run(storedTime(new Date(due)));
    const round = executor.expect(taskIds.length, due - Date.now() + 60_000);
    // Its warnings and errors on stderr: stdout is the report.
    dispatcher = new Dispatcher({
      deps: { db, clock: systemClock, runs, events: new MemoryEventBus() },
      logger: createLogger('warn', process.stderr),
    });
    dispatcher.start();
    // Idle until the due second (the dispatcher sleeps too), then count CPU.
    await sleep(Math.max(0, due - Date.now() - 20));
    const cpu = process.cpuUsage();
    const complete = await round.received;
    await dispatcher.idle();
    const doneAt = Date.now();
    const used = process.cpuUsage(cpu);
    // Still running for a moment: a duplicate claim would show up now.
    await sleep(250);
    await dispatcher.stop();
    dispatcher = undefined;

    const deliveries = round.deliveries();
    const ids = new Set(taskIds);
    const checks = deliveryChecks(deliveries, ids, dueIso);
    if (!complete) checks.problems.unshift(`timed out waiting for ${taskIds.length} deliveries`);
    const rows = raw
      .prepare('SELECT id, taskId, scheduledFor, startedAt, finishedAt, outcome, attempts FROM TaskRun')
      .all() as {
      id: string;
      taskId: string;
      scheduledFor: string;
      startedAt: string | null;
      finishedAt: string | null;
      outcome: string;
      attempts: number;
    }[];
    const succeeded = rows.filter((r) => r.outcome === 'SUCCEEDED' && r.attempts === 1);
    if (rows.length !== taskIds.length) checks.problems.push(`${rows.length} run rows for ${taskIds.length} tasks`);
    if (succeeded.length !== rows.length)
      checks.problems.push(
        `${rows.length - succeeded.length} run rows not SUCCEEDED in one attempt, e.g. ${JSON.stringify(rows.find((r) => !succeeded.includes(r)))}`,
      );
    if (new Set(rows.map((r) => r.taskId)).size !== rows.length) checks.problems.push('a task has two run rows');
    const delivered = new Map(deliveries.map((d) => [d.runId, d.taskId]));
    const unmatched = rows.filter((r) => delivered.get(r.id) !== r.taskId).length;
    if (unmatched > 0) checks.problems.push(`${unmatched} run rows whose id the executor did not receive for its task`);
    const notDue = rows.filter((r) => new Date(r.scheduledFor).getTime() !== due).length;
    if (notDue > 0) checks.problems.push(`${notDue} run rows not scheduled for ${dueIso}`);
    const released = raw
      .prepare(
        `SELECT count(*) AS n FROM Task WHERE inProgress = 0 AND runs = 1 AND lastRunId IS NOT NULL AND status = 'ACTIVE' AND nextRunAt > ?`,
      )
      .get(storedTime(new Date(due))) as { n: number };
    if (released.n !== taskIds.length)
      checks.problems.push(`${taskIds.length - released.n} tasks not released with one run and a later nextRunAt`);

    const lateness = rows
      .filter((r) => r.startedAt !== null)
      .map((r) => new Date(r.startedAt as string).getTime() - new Date(r.scheduledFor).getTime());
    const totalMs = doneAt - due;
    return {
      runsPerSecond: taskIds.length / (totalMs / 1000),
      latenessP50: percentile(lateness, 50),
      latenessP99: percentile(lateness, 99),
      latenessMax: percentile(lateness, 100),
      receivedP99: percentile(
        deliveries.map((d) => d.at - due),
        99,
      ),
      totalMs,
      cpuMs: (used.user + used.system) / 1000,
      succeeded: succeeded.length,
      ...checks,
    };
  } finally {
    await dispatcher?.stop();
    raw.close();
    await db.close();
  }
}

/**
 * A reference: the same calls at the same concurrency with no database, all
 * due at the moment it begins. `call` makes one and says whether it got a 2xx.
 */
async function referenceRound(
  { taskIds, executor, cfg }: Round,
  call: (taskId: string, runId: string, due: Date) => Promise<boolean>,
): Promise<DispatchMeasurement> {
  const round = executor.expect(taskIds.length, 60_000);
  const cpu = process.cpuUsage();
  const due = Date.now();
  const lateness: number[] = [];
  let succeeded = 0;
  await pool(taskIds.length, cfg.concurrency, async (i) => {
    lateness.push(Date.now() - due);
    if (await call(taskIds[i]!, newId(), new Date(due))) succeeded++;
  });
  const totalMs = Date.now() - due;
  const used = process.cpuUsage(cpu);
  const deliveries = round.deliveries();
  const checks = deliveryChecks(deliveries, new Set(taskIds), null);
  if (succeeded !== taskIds.length) checks.problems.push(`${taskIds.length - succeeded} calls not answered 2xx`);
  return {
    runsPerSecond: taskIds.length / (totalMs / 1000),
    latenessP50: percentile(lateness, 50),
    latenessP99: percentile(lateness, 99),
    latenessMax: percentile(lateness, 100),
    receivedP99: percentile(
      deliveries.map((d) => d.at - due),
      99,
    ),
    totalMs,
    cpuMs: (used.user + used.system) / 1000,
    succeeded,
    ...checks,
  };
}

function runner(name: DispatchRunner, apiOf: Map<string, string>) {
  return async (r: Round): Promise<DispatchMeasurement> => {
    if (name === 'dispatcher') return dispatcherRound(r);
    if (name === 'client-ref') {
      const settings = { executorUrl: r.executor.url, executorSecret: SECRET, timeoutMs: NO_EXECUTOR.timeoutMs };
      return referenceRound(r, async (taskId, runId, due) => {
        const [api, query] = (apiOf.get(taskId) ?? 'SCREENSHOT\t').split('\t') as [string, string];
        const attempt = await callExecutor(
          settings,
          { id: runId, taskId, accountId: 'bench-account', scheduledFor: due, attempts: 1 },
          { api: api as 'SCREENSHOT', query },
          Date.now(),
        );
        return attempt.ok;
      });
    }
    return referenceRound(r, async (taskId, runId) => {
      const [api, query] = (apiOf.get(taskId) ?? 'SCREENSHOT\t').split('\t') as [string, string];
      const res = await fetch(`${r.executor.url}/${api.toLowerCase()}?${query}`, {
        headers: { 'x-task-id': taskId, 'x-run-id': runId },
      });
      await res.arrayBuffer();
      return res.ok;
    });
  };
}

// ------------------------------------------------------------------ main

export async function dispatchWorkload(cfg: DispatchConfig, log: (line: string) => void): Promise<DispatchResult> {
  const executor = await startExecutor(cfg.executorMs);
  const files: string[] = [];
  try {
    const fixture = await buildFixture(cfg.dir, {
      tasks: cfg.tasks,
      accounts: cfg.accounts,
      wideAccounts: 0,
      deletablePerAccount: 0,
      batchTasks: 0,
    });
    const taskIds = fixture.accounts.flatMap((a) => a.taskIds);
    const base = new Database(fixture.file, { readonly: true });
    const apiOf = new Map(
      (base.prepare('SELECT id, api, query FROM Task').all() as { id: string; api: string; query: string }[]).map(
        (t) => [t.id, `${t.api}\t${t.query}`],
      ),
    );
    base.close();
    if (taskIds.length !== cfg.tasks) throw new Error(`dispatch fixture: ${taskIds.length} tasks, wanted ${cfg.tasks}`);
    const rounds = Object.fromEntries(DISPATCH_RUNNERS.map((n) => [n, [] as DispatchMeasurement[]])) as Record<
      DispatchRunner,
      DispatchMeasurement[]
    >;
    const problems: string[] = [];
    const total = cfg.rounds + (cfg.warmup ? 1 : 0);
    for (let round = 0; round < total; round++) {
      const warm = cfg.warmup && round === 0;
      const label = warm ? 'warm-up' : `round ${round - (cfg.warmup ? 1 : 0) + 1}`;
      // Alternate the order each round so no runner always goes first.
      const order = round % 2 === 0 ? DISPATCH_RUNNERS : [...DISPATCH_RUNNERS].reverse();
      for (const name of order) {
        const file = await copyFixture(fixture, `dispatch-${round}-${name}`);
        files.push(file);
        const m = await runner(name, apiOf)({ file, taskIds, executor, cfg });
        for (const p of m.problems) problems.push(`${name} ${label}: ${p}`);
        if (m.problems.length > 0) log(`  ! W${DISPATCH_WORKLOAD} ${name}: ${m.problems.join('; ')}`);
        if (!warm) rounds[name].push(m);
        await rm(file, { force: true });
        await rm(`${file}-wal`, { force: true });
        await rm(`${file}-shm`, { force: true });
      }
      log(`bench: W${DISPATCH_WORKLOAD} ${label} done`);
    }
    const summary = (ms: DispatchMeasurement[]): DispatchMeasurement => ({
      runsPerSecond: median(ms.map((m) => m.runsPerSecond)),
      latenessP50: median(ms.map((m) => m.latenessP50)),
      latenessP99: median(ms.map((m) => m.latenessP99)),
      latenessMax: median(ms.map((m) => m.latenessMax)),
      receivedP99: median(ms.map((m) => m.receivedP99)),
      totalMs: median(ms.map((m) => m.totalMs)),
      cpuMs: median(ms.map((m) => m.cpuMs)),
      delivered: Math.min(...ms.map((m) => m.delivered)),
      distinctTasks: Math.min(...ms.map((m) => m.distinctTasks)),
      distinctRuns: Math.min(...ms.map((m) => m.distinctRuns)),
      succeeded: Math.min(...ms.map((m) => m.succeeded)),
      problems: ms.flatMap((m) => m.problems),
    });
    const { dir: _dir, ...config } = cfg;
    return {
      config,
      idealMs: (cfg.tasks / cfg.concurrency) * cfg.executorMs,
      rounds,
      median: Object.fromEntries(DISPATCH_RUNNERS.map((n) => [n, summary(rounds[n])])) as Record<
        DispatchRunner,
        DispatchMeasurement
      >,
      problems,
    };
  } finally {
    await executor.close();
    await rm(cfg.dir, { recursive: true, force: true });
  }
}

/** The workload's Markdown rows and targets (appended to the bench's report). */
export function dispatchReport(r: DispatchResult): { lines: string[]; targets: [string, boolean][] } {
  const { tasks, accounts, concurrency, executorMs, rounds } = r.config;
  const ideal = r.idealMs;
  const bare = r.median['bare-ref'];
  const lines = [
    `W${DISPATCH_WORKLOAD}: the dispatcher (in-process, started with start() on the system clock) with ${tasks} tasks over ${accounts} accounts due at one second, ` +
      `an in-process node:http executor answering in ${executorMs} ms, ${concurrency} in flight, SQLite; ` +
      `${rounds} rounds (medians), ideal ${tasks} / ${concurrency} x ${executorMs} ms = ${ideal} ms. ` +
      'Lateness: startedAt − scheduledFor; total: from the due second until the last run is recorded; ' +
      "CPU: this process's user + system time over the total (runner, executor and HTTP client), and its multiple of bare-ref's.",
    '',
    '| # | workload | runner | runs/s | lateness p50 ms | lateness p99 ms | total ms | vs ideal | vs bare-ref | CPU ms | CPU vs bare-ref | delivered / distinct tasks / distinct runs / SUCCEEDED |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const name of DISPATCH_RUNNERS) {
    const m = r.median[name];
    lines.push(
      `| ${DISPATCH_WORKLOAD} | ${tasks} tasks due at one second, executor ${executorMs} ms | ${name} | ${Math.round(m.runsPerSecond)} | ` +
        `${Math.round(m.latenessP50)} | ${Math.round(m.latenessP99)} | ${Math.round(m.totalMs)} | ${(ideal / m.totalMs).toFixed(2)}x | ` +
        `${(bare.totalMs / m.totalMs).toFixed(2)}x | ${Math.round(m.cpuMs)} | ${(m.cpuMs / bare.cpuMs).toFixed(2)}x | ${m.delivered} / ${m.distinctTasks} / ${m.distinctRuns} / ${m.succeeded} |`,
    );
  }
  const d = r.median.dispatcher;
  const exactlyOnce = r.problems.filter((p) => p.startsWith('dispatcher')).length === 0;
  return {
    lines,
    targets: [
      [
        `W${DISPATCH_WORKLOAD} dispatcher p99 lateness < 1 s (${Math.round(d.latenessP99)} ms; the limit at ${concurrency} in flight is ${ideal} ms)`,
        d.latenessP99 < 1000,
      ],
      [
        `W${DISPATCH_WORKLOAD} every task delivered exactly once, every round (${tasks} deliveries, distinct task and run ids, ${tasks} SUCCEEDED rows)`,
        exactlyOnce,
      ],
    ],
  };
}
