// `npm run bench`: the production server against two reference servers in the
// same run — bare node:http + prepared statements (the machine's limit) and
// yoga + Pothos + prepared statements (the framework's cost) — over the
// workloads W1–W9 and W12, alternating servers over several rounds and
// reporting medians. W5, deleteTasks of 1,000 ids, runs on the API alone. W12
// is W1's hot read through a REST door (the screenshot Task API's
// GET /v1/tasks/<id>, key in X-Access-Key), checked to answer the task's own
// JSON; it runs right after W1, on the API and on bare-ref (its W1 read) only:
// yoga-ref has no REST path, so its column shows —, and a note gives W12's
// req/s and p99 against W1's (api) and bare-ref's. Then W10, the
// dispatcher firing 1,000 tasks due at one second (bench/dispatch.ts), in this
// process against its own references; then W11, fan-out (bench/fanout.ts): a
// fresh production server holding 1,000 SSE subscriptions of one account, the
// time from a rename's response to its event reaching the last of them, and
// W1's hot read with those subscribers open against without them.
//
// Configuration (environment): BENCH_TASKS (10000), BENCH_ACCOUNTS (100),
// BENCH_DURATION seconds per measurement (5), BENCH_WARMUP seconds (2),
// BENCH_ROUNDS (3), BENCH_CONNECTIONS (20), BENCH_OUT (bench/results), BENCH_ONLY
// (comma-separated workload numbers, to iterate on one: BENCH_ONLY=10 runs the
// dispatcher alone, without building the servers' fixture; BENCH_ONLY=11 the
// fan-out alone, on the fixture without W4, W5 and W7's rows, which take
// minutes to build; BENCH_ONLY=1,12 the GraphQL and REST hot reads, with W5
// as any server workload), BENCH_DISPATCH_TASKS (1000), BENCH_DISPATCH_CONCURRENCY
// (50), BENCH_EXECUTOR_MS (20), BENCH_FANOUT_SUBSCRIBERS (1000),
// BENCH_FANOUT_RENAMES (100).
//
// On a machine with two or more cores the servers run on core 0 and the load
// generator on core 1 (taskset), so they do not compete. For W11 the load
// generator is also the 1,000 subscribers.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { createApp } from '../src/app.js';
import { NO_EXECUTOR } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { createLogger } from '../src/logger.js';
import { systemClock } from '../src/services/clock.js';
import { MemoryEventBus } from '../src/services/events/memory-bus.js';
import { Subscriptions } from '../src/services/events/subscriptions.js';
import { MemoryRateLimiter } from '../src/services/rate-limit.js';
import { DISPATCH_WORKLOAD, type DispatchResult, dispatchReport, dispatchWorkload } from './dispatch.js';
import { FANOUT_WORKLOAD, type FanoutResult, fanoutReport, fanoutWorkload } from './fanout.js';
import { buildFixture, copyFixture, type Fixture } from './fixture.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const cfg = {
  tasks: env('BENCH_TASKS', 10_000),
  accounts: env('BENCH_ACCOUNTS', 100),
  wideAccounts: 1_000,
  duration: env('BENCH_DURATION', 5),
  warmup: env('BENCH_WARMUP', 2),
  rounds: env('BENCH_ROUNDS', 3),
  connections: env('BENCH_CONNECTIONS', 20),
  dispatchTasks: env('BENCH_DISPATCH_TASKS', 1000),
  dispatchConcurrency: env('BENCH_DISPATCH_CONCURRENCY', 50),
  executorMs: env('BENCH_EXECUTOR_MS', 20),
  fanoutSubscribers: env('BENCH_FANOUT_SUBSCRIBERS', 1000),
  fanoutRenames: env('BENCH_FANOUT_RENAMES', 100),
  out: process.env.BENCH_OUT ?? path.join(import.meta.dirname, 'results'),
};
const cores = os.availableParallelism();
const pinned = cores >= 2 && hasTaskset();
const only = process.env.BENCH_ONLY?.split(',').map(Number);
/** The servers' workloads (W1–W9 and W12, W5 with them) run unless BENCH_ONLY names only W10 or W11. */
const httpSelected = !only || only.some((id) => id !== DISPATCH_WORKLOAD && id !== FANOUT_WORKLOAD);
const dispatchSelected = !only || only.includes(DISPATCH_WORKLOAD);
const fanoutSelected = !only || only.includes(FANOUT_WORKLOAD);

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- servers

type ServerName = 'api' | 'yoga-ref' | 'bare-ref';

interface Server {
  name: ServerName;
  base: string;
  child: ChildProcess;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts a server on its copy of the database; `extraEnv` adds to (or overrides) its environment. */
async function startServer(name: ServerName, file: string, extraEnv: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const script = name === 'api' ? 'src/server.ts' : `bench/reference-${name === 'yoga-ref' ? 'yoga' : 'bare'}.ts`;
  const args = [process.execPath, '--import', 'tsx', script, ...(name === 'api' ? [] : [file, String(port)])];
  const [cmd, ...rest] = pinned ? ['taskset', '-c', '0', ...args] : args;
  const child = spawn(cmd!, rest, {
    cwd: path.join(import.meta.dirname, '..'),
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${file}`,
      // Raised for the benchmark, never bypassed: every check still runs. The
      // account limit also counts schedulePreview (W9): 1,000,000 per account
      // per 60 s window (the highest config allows), over 16,000 req/s for one
      // account, so never reached (a refusal would fail W9's checks as RateLimited).
      RATE_LIMIT_ACCOUNT_MAX: '1000000',
      RATE_LIMIT_SCHEDULE_MAX: '1000000',
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      const res = await fetch(name === 'api' ? `${base}/ready` : `${base}/task?ids=x`, {
        method: name === 'yoga-ref' ? 'POST' : 'GET',
        ...(name === 'yoga-ref'
          ? { body: JSON.stringify({ query: '{ __typename }' }), headers: { 'content-type': 'application/json' } }
          : {}),
      });
      if (res.ok || name === 'yoga-ref') break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} did not start`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { name, base, child };
}

/** SIGTERM, and wait for the exit (at most 10 s each). */
async function stopServers(servers: Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
          const timer = setTimeout(resolve, 10_000);
          s.child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          s.child.kill('SIGTERM');
        }),
    ),
  );
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return line ? Math.round(Number(line[1]) / 1024) : Number.NaN;
}

/** RSS at rest: the median of samples over 3 s (the heap saw-tooths by ±15% under load). */
async function restingRssMb(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    await new Promise((r) => setTimeout(r, 500));
    samples.push(rssMb(pid));
  }
  return median(samples);
}

// ---------------------------------------------------------------- workloads

const TASK_FIELDS = 'id name api query status crontab timezone enabled inProgress runs';
const API_DOCS = {
  hot: `query Hot($id: ID!) { task(id: $id) { __typename ... on Task { ${TASK_FIELDS} } ... on Error { code message } } }`,
  page: 'query Page { tasks(first: 50) { __typename ... on TaskConnection { edges { node { id name status } } pageInfo { hasNextPage endCursor } } ... on Error { code message } } }',
  pageNext:
    'query PageNext { tasks(first: 50) { __typename ... on TaskConnection { edges { node { id name status nextRunAt description } } pageInfo { hasNextPage endCursor } } ... on Error { code message } } }',
  preview:
    'query P($c: String!, $z: String!) { schedulePreview(crontab: $c, timezone: $z, count: 5) { __typename ... on SchedulePreview { description nextRuns { at local shifted } } ... on Error { code message } } }',
  aliases: `query Aliases(${Array.from({ length: 25 }, (_, i) => `$i${i}: ID!`).join(', ')}) { ${Array.from(
    { length: 25 },
    (_, i) => `t${i}: task(id: $i${i}) { __typename ... on Task { ${TASK_FIELDS} } ... on Error { code } }`,
  ).join(' ')} }`,
  delete:
    'mutation Delete($id: ID!) { deleteTask(id: $id) { __typename ... on DeleteTaskSuccess { deletedId } ... on Error { code message } } }',
  cancel:
    'mutation Cancel($id: ID!) { cancelSchedule(id: $id) { __typename ... on CancelScheduleSuccess { newStatus } ... on Error { code message } } }',
};
const REF_DOCS = {
  hot: `query Hot($id: ID!) { task(id: $id) { __typename ${TASK_FIELDS} } }`,
  page: 'query Page($after: ID!) { tasks(after: $after) { id name status } }',
  pageNext: 'query PageNext($after: ID!) { tasks(after: $after) { id name status nextRunAt description } }',
  // Only `at`: croner gives instants, not the API's local time or `shifted`.
  preview:
    'query P($c: String!, $z: String!) { schedulePreview(crontab: $c, timezone: $z) { __typename description nextRuns { at } } }',
  aliases: `query Aliases(${Array.from({ length: 25 }, (_, i) => `$i${i}: ID!`).join(', ')}) { ${Array.from(
    { length: 25 },
    (_, i) => `t${i}: task(id: $i${i}) { __typename ${TASK_FIELDS} }`,
  ).join(' ')} }`,
  delete: 'mutation Delete($id: ID!) { deleteTask(id: $id) }',
  cancel: 'mutation Cancel($id: ID!) { cancelSchedule(id: $id) }',
};

type Op = keyof typeof API_DOCS;
/** One request's inputs: the account's key and the ids it names (schedulePreview: a crontab and zone instead). */
type Pick = () => { key: string; ids: string[]; schedule?: Schedule };
interface Schedule {
  crontab: string;
  timezone: string;
}

/**
 * W9's schedules, taken in turn: what people type into a schedule form, in
 * zones with and without daylight saving (northern and southern, a 30-minute
 * shift in Lord Howe), some at wall times a spring-forward gap skips.
 */
const PREVIEWS: Schedule[] = [
  { crontab: '0 9 * * 1-5', timezone: 'America/New_York' },
  { crontab: '30 2 * * *', timezone: 'Europe/Berlin' },
  { crontab: '*/15 * * * *', timezone: 'Etc/UTC' },
  { crontab: '0 0 1 * *', timezone: 'Asia/Tokyo' },
  { crontab: '0 */6 * * *', timezone: 'Australia/Sydney' },
  { crontab: '15 8 * * 1', timezone: 'Europe/London' },
  { crontab: '0 12 * * 0', timezone: 'America/Los_Angeles' },
  { crontab: '45 23 * * 5', timezone: 'America/Sao_Paulo' },
  { crontab: '0 2 * * *', timezone: 'America/Denver' },
  { crontab: '5 4 * * SUN', timezone: 'Europe/Paris' },
  { crontab: '0 18 * * 1-5', timezone: 'Asia/Kolkata' },
  { crontab: '*/5 9-17 * * 1-5', timezone: 'Europe/Madrid' },
  { crontab: '0 6 15 * *', timezone: 'Pacific/Auckland' },
  { crontab: '30 1 * * *', timezone: 'Australia/Lord_Howe' },
  { crontab: '0 0 * * *', timezone: 'America/Santiago' },
  { crontab: '20 14 1,15 * *', timezone: 'Africa/Cairo' },
  { crontab: '0 9 * * 1', timezone: 'Asia/Singapore' },
  { crontab: '0 22 * * 0-4', timezone: 'Asia/Jerusalem' },
  { crontab: '10 0 1 1 *', timezone: 'Europe/Dublin' },
  { crontab: '30 7 * * 1-5', timezone: 'America/Toronto' },
];
/** A parsed response body: GraphQL's `{ data, errors }`, or a REST door's own JSON (W12). */
type Body = { data?: Record<string, unknown>; errors?: unknown } & Record<string, unknown>;
/**
 * Is this response body a correct answer (GraphQL errors arrive with HTTP 200)?
 * `sent` is what the picker gave the request it answers.
 */
type Check = (body: Body, sent: ReturnType<Pick>) => boolean;

interface Workload {
  id: number;
  title: string;
  /** The GraphQL operation (on the references: theirs; bare-ref's path is `/<op>`). */
  op: Op;
  /**
   * Set for a REST door's workload: the API gets `GET <rest(sent)>` with the
   * key in X-Access-Key instead of POST /graphql; the references still run `op`.
   */
  rest?: (sent: ReturnType<Pick>) => string;
  /** Which ids a request uses; a new picker per server, so writes never share rows. */
  picker(server: ServerName): Pick;
  /** The servers it runs on are those it has a check for (W12 has no yoga-ref: no REST path there). */
  check: Partial<Record<ServerName, Check>>;
}

/** A workload runs on the servers it has a check for. */
const runsOn = (w: Workload, s: Server) => w.check[s.name] !== undefined;

const rand = (n: number) => Math.floor(Math.random() * n);
const typename = (v: unknown) => (v as { __typename?: string } | null)?.__typename;
/**
 * 50 tasks, each with its crontab in words and its stored next run. Every
 * fixture task starts ACTIVE with a next run; but W6 (run earlier, on the same
 * database) cancels tasks, which then have none — and W4's deletes bring some
 * onto first pages. So: a next run exactly when ACTIVE, the model's invariant;
 * without W6 in the run, that is every task.
 */
const described = (nodes: unknown) =>
  Array.isArray(nodes) &&
  nodes.length === 50 &&
  nodes.every(
    (n: { status?: unknown; nextRunAt?: unknown; description?: unknown }) =>
      (n.nextRunAt != null) === (n.status === 'ACTIVE') && typeof n.description === 'string' && n.description !== '',
  );
const previewed = (p: unknown) =>
  typename(p) === 'SchedulePreview' && (p as { nextRuns?: unknown[] }).nextRuns?.length === 5;
/**
 * The screenshot Task API's task JSON for task `id` (document 001): its id (a
 * JSON number only when the id is all digits, a string otherwise), `enabled` a
 * boolean, `api` in lower case. An error's JSON (code, type, details) fails.
 */
const restTask = (b: Body, id: string) =>
  (typeof b.id === 'number' ? /^\d+$/.test(id) && String(b.id) === id : b.id === id) &&
  typeof b.enabled === 'boolean' &&
  typeof b.api === 'string' &&
  b.api !== '' &&
  b.api === b.api.toLowerCase();

function workloads(f: Fixture): Workload[] {
  const anyTask: Pick = () => {
    const a = f.accounts[rand(f.accounts.length)]!;
    return { key: a.key, ids: [a.taskIds[rand(a.taskIds.length)]!] };
  };
  const readChecks = (field: string): Record<ServerName, Check> => ({
    api: (b) => !b.errors && typename(b.data?.[field]) === 'Task',
    'yoga-ref': (b) => !b.errors && typename(b.data?.[field]) === 'Task',
    'bare-ref': (b) => typename(b.data?.[field]) === 'Task',
  });
  return [
    { id: 1, title: 'task(id:) hot read', op: 'hot', picker: () => anyTask, check: readChecks('task') },
    // Listed (so run) right after W1: W12/W1(api) compares the two doors on
    // the same database, a minute apart, before W4 and W6 write to it.
    {
      id: 12,
      title: 'REST GET /v1/tasks/:id hot read',
      op: 'hot',
      rest: (sent) => `/v1/tasks/${encodeURIComponent(sent.ids[0]!)}`,
      picker: () => anyTask,
      check: {
        api: (b, sent) => restTask(b, sent.ids[0]!),
        // W1's bare read: the machine's limit for the same row. No yoga-ref: no REST path there.
        'bare-ref': readChecks('task')['bare-ref'],
      },
    },
    {
      id: 2,
      title: 'tasks(first: 50) page',
      op: 'page',
      picker: () => anyTask,
      check: {
        api: (b) => !b.errors && (b.data?.tasks as { edges?: unknown[] })?.edges?.length === 50,
        'yoga-ref': (b) => !b.errors && (b.data?.tasks as unknown[])?.length === 50,
        'bare-ref': (b) => (b.data?.tasks as { edges?: unknown[] })?.edges?.length === 50,
      },
    },
    {
      id: 3,
      title: '25 aliased task(id:)',
      op: 'aliases',
      picker: () => () => {
        const a = f.accounts[rand(f.accounts.length)]!;
        return { key: a.key, ids: Array.from({ length: 25 }, () => a.taskIds[rand(a.taskIds.length)]!) };
      },
      check: {
        api: (b) => !b.errors && Object.values(b.data ?? {}).filter((t) => typename(t) === 'Task').length === 25,
        'yoga-ref': (b) => !b.errors && Object.values(b.data ?? {}).filter((t) => typename(t) === 'Task').length === 25,
        'bare-ref': (b) => Object.values(b.data ?? {}).filter((t) => typename(t) === 'Task').length === 25,
      },
    },
    {
      id: 4,
      title: 'deleteTask on fresh ids',
      op: 'delete',
      picker: () => {
        // Round-robin over accounts, each id used once per server.
        let n = 0;
        return () => {
          const a = n % f.accounts.length;
          const i = Math.floor(n / f.accounts.length);
          n++;
          const id = f.deletable[a]![i];
          if (!id) throw new Error('deletable pool exhausted: raise deletablePerAccount');
          return { key: f.accounts[a]!.key, ids: [id] };
        };
      },
      check: {
        api: (b) => !b.errors && typename(b.data?.deleteTask) === 'DeleteTaskSuccess',
        'yoga-ref': (b) => !b.errors && typeof b.data?.deleteTask === 'string',
        'bare-ref': (b) => Boolean(b.data?.deleteTask),
      },
    },
    {
      id: 6,
      title: 'cancelSchedule, 20 connections, mixed ids',
      op: 'cancel',
      picker: () => anyTask,
      check: {
        // A repeated id answers InvalidStatus (already CANCELLED): correct, typed.
        api: (b) =>
          !b.errors && ['CancelScheduleSuccess', 'InvalidStatus'].includes(typename(b.data?.cancelSchedule) ?? ''),
        'yoga-ref': (b) => !b.errors && b.data !== undefined,
        'bare-ref': (b) => b.data !== undefined,
      },
    },
    {
      id: 7,
      title: 'hot read over 1,000 accounts',
      op: 'hot',
      picker: () => () => {
        const w = f.wide[rand(f.wide.length)]!;
        return { key: w.key, ids: [w.taskId] };
      },
      check: readChecks('task'),
    },
    {
      id: 8,
      title: 'tasks(first: 50) with nextRunAt description',
      op: 'pageNext',
      picker: () => anyTask,
      check: {
        api: (b) =>
          !b.errors && described((b.data?.tasks as { edges?: { node: unknown }[] })?.edges?.map((e) => e.node)),
        'yoga-ref': (b) => !b.errors && described(b.data?.tasks),
        'bare-ref': (b) => described((b.data?.tasks as { edges?: { node: unknown }[] })?.edges?.map((e) => e.node)),
      },
    },
    {
      id: 9,
      title: 'schedulePreview, 20 schedules in turn',
      op: 'preview',
      picker: () => {
        let n = 0;
        return () => {
          const a = f.accounts[rand(f.accounts.length)]!;
          return { key: a.key, ids: [], schedule: PREVIEWS[n++ % PREVIEWS.length]! };
        };
      },
      check: {
        api: (b) => !b.errors && previewed(b.data?.schedulePreview),
        'yoga-ref': (b) => !b.errors && previewed(b.data?.schedulePreview),
        'bare-ref': (b) => previewed(b.data?.schedulePreview),
      },
    },
  ];
}

/**
 * Autocannon's per-connection context: what the picker gave the request in
 * flight (one at a time per connection, no pipelining), for its check.
 */
interface Sent {
  sent?: ReturnType<Pick>;
}

function request(server: Server, w: Workload, pick: Pick, onCheck: (ok: boolean, body: string) => void) {
  let seen = 0;
  const check = w.check[server.name];
  if (!check) throw new Error(`W${w.id} does not run on ${server.name}`);
  const validate = (_status: number, body: string, context: Sent) => {
    // Parse a sample: every 20th body (parsing all would load the generator).
    if (seen++ % 20 !== 0) return;
    let ok = false;
    try {
      ok = check(JSON.parse(body), context.sent!);
    } catch {}
    onCheck(ok, body);
  };
  if (server.name === 'api' && w.rest) {
    const rest = w.rest;
    return {
      method: 'GET' as const,
      setupRequest: (req: Record<string, unknown>, context: Sent) => {
        const sent = pick();
        context.sent = sent;
        return { ...req, path: rest(sent), headers: { 'x-access-key': sent.key } };
      },
      onResponse: validate,
    };
  }
  if (server.name === 'bare-ref') {
    const query = (p: ReturnType<Pick>) =>
      p.schedule
        ? `c=${encodeURIComponent(p.schedule.crontab)}&z=${encodeURIComponent(p.schedule.timezone)}`
        : `ids=${p.ids.join(',')}`;
    return {
      method: 'GET' as const,
      setupRequest: (req: { path?: string }, context: Sent) => {
        const sent = pick();
        context.sent = sent;
        return { ...req, path: `/${w.op}?${query(sent)}` };
      },
      onResponse: validate,
    };
  }
  const doc = server.name === 'api' ? API_DOCS[w.op] : REF_DOCS[w.op];
  return {
    method: 'POST' as const,
    path: '/graphql',
    setupRequest: (req: Record<string, unknown>, context: Sent) => {
      const sent = pick();
      context.sent = sent;
      const { key, ids, schedule } = sent;
      const variables = schedule
        ? { c: schedule.crontab, z: schedule.timezone }
        : w.op === 'aliases'
          ? Object.fromEntries(ids.map((id, i) => [`i${i}`, id]))
          : w.op === 'page' || w.op === 'pageNext'
            ? server.name === 'api'
              ? {}
              : { after: ids[0] }
            : { id: ids[0] };
      return {
        ...req,
        headers: { 'content-type': 'application/json', 'x-access-key': key },
        body: JSON.stringify({ query: doc, variables }),
      };
    },
    onResponse: validate,
  };
}

interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  checked: number;
}

async function load(server: Server, w: Workload, pick: Pick, seconds: number): Promise<Measurement> {
  let failures = 0;
  let checked = 0;
  let firstFailure = '';
  const result = await autocannon({
    url: server.base,
    connections: cfg.connections,
    duration: seconds,
    requests: [
      request(server, w, pick, (ok, body) => {
        checked++;
        if (!ok) {
          failures++;
          firstFailure ||= body.slice(0, 300);
        }
      }),
    ] as autocannon.Request[],
  });
  failures += result.non2xx + result.errors + result.timeouts;
  if (failures > 0) console.error(`  ! ${server.name} W${w.id}: ${failures} failures ${firstFailure}`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failures, checked };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ------------------------------------------------------- deleteTasks x1000

async function batchDeletes(api: Server, f: Fixture, calls: number): Promise<{ medianMs: number; failures: number }> {
  const times: number[] = [];
  let failures = 0;
  const query =
    'mutation Many($ids: [ID!]!) { deleteTasks(ids: $ids) { __typename ... on DeleteTasksSuccess { deletedIds } } }';
  for (let c = 0; c < calls; c++) {
    const ids = f.batch.ids.slice(c * 1000, (c + 1) * 1000);
    const started = performance.now();
    const res = await fetch(`${api.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-access-key': f.batch.key },
      body: JSON.stringify({ query, variables: { ids } }),
    });
    const body = (await res.json()) as { data?: { deleteTasks?: { deletedIds?: string[] } }; errors?: unknown };
    times.push(performance.now() - started);
    if (res.status !== 200 || body.errors || body.data?.deleteTasks?.deletedIds?.length !== 1000) failures++;
  }
  return { medianMs: median(times.slice(2)), failures };
}

/** SQL statements of one deleteTasks of 1,000 ids, from Prisma's query log. */
async function batchStatements(f: Fixture): Promise<number> {
  const file = await copyFixture(f, 'statements');
  const queries: string[] = [];
  const db = await openDatabase(`file:${file}`, { onQuery: (sql) => queries.push(sql) });
  const app = createApp({
    deps: {
      db,
      clock: systemClock,
      rateLimiter: new MemoryRateLimiter(),
      limits: {
        accountMax: 1e9,
        scheduleMax: 1e9,
        windowSeconds: 60,
        subscriptionsPerAccount: 1e9,
        subscriptionRecheckSeconds: 30,
      },
      runs: NO_EXECUTOR,
      events: new MemoryEventBus(),
      subscriptions: new Subscriptions(),
    },
    logger: createLogger('silent'),
    graphiql: false,
  });
  const before = queries.length;
  const res = await app.fetch('http://x/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-access-key': f.batch.key },
    body: JSON.stringify({
      query: 'mutation Many($ids: [ID!]!) { deleteTasks(ids: $ids) { __typename } }',
      variables: { ids: f.batch.ids.slice(-1000) },
    }),
  });
  await res.text();
  const count = queries.length - before;
  await db.close();
  return count;
}

// ------------------------------------------------------------------ main

interface Row {
  workload: number;
  title: string;
  server: ServerName;
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  checked: number;
}

interface HttpResult {
  rows: Row[];
  batch: { medianMs: number; failures: number };
  statements: number;
  rssAfterWarmup: number;
  rssAfterRun: number;
}

const loadAtStart = os.loadavg();
/** Taken before any server starts: what they run (see sourceTree). */
const sourceAtStart = sourceTree();

async function main() {
  if (pinned) execFileSync('taskset', ['-a', '-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const started = new Date();
  if (loadAtStart[0]! > cores / 2)
    console.error(`bench: warning: load average ${loadAtStart[0]!.toFixed(1)} on ${cores} cores; others are busy here`);
  if (httpSelected)
    console.error(
      `bench: ${cfg.tasks} tasks / ${cfg.accounts} accounts, ${cfg.rounds} rounds x ${cfg.duration}s, ${cfg.connections} connections, pinned: ${pinned}`,
    );
  if (dispatchSelected)
    console.error(
      `bench: W${DISPATCH_WORKLOAD} ${cfg.dispatchTasks} tasks, executor ${cfg.executorMs} ms, ${cfg.dispatchConcurrency} in flight, ${cfg.rounds} rounds, pinned: ${pinned}`,
    );
  if (fanoutSelected)
    console.error(
      `bench: W${FANOUT_WORKLOAD} ${cfg.fanoutSubscribers} subscribers, ${cfg.fanoutRenames} renames, ${cfg.rounds} rounds x ${cfg.duration}s hot reads, pinned: ${pinned}`,
    );
  const fixture = httpSelected || fanoutSelected ? await serverFixture() : undefined;
  const http = httpSelected ? await httpWorkloads(fixture!) : undefined;
  // After the servers have stopped: the dispatcher and its executor run in
  // this process (on core 1 when pinned), the machine otherwise quiet.
  const dispatch = dispatchSelected
    ? await dispatchWorkload(
        {
          dir: path.join(cfg.out, 'work-dispatch'),
          tasks: cfg.dispatchTasks,
          accounts: Math.min(100, cfg.dispatchTasks),
          concurrency: cfg.dispatchConcurrency,
          executorMs: cfg.executorMs,
          rounds: cfg.rounds,
          warmup: cfg.warmup > 0,
        },
        (line) => console.error(line),
      )
    : undefined;
  // Last, on its own server: the machine is otherwise quiet again.
  const fanout = fanoutSelected ? await fanoutRun(fixture!) : undefined;
  await report({ started, http, dispatch, fanout });
  // Exactly-once is not a matter of speed: its violation fails the bench
  // (as does a reference that lost calls: its numbers would mean nothing).
  if (dispatch && dispatch.problems.length > 0) {
    console.error(`bench: W${DISPATCH_WORKLOAD} FAILED its delivery checks:\n  ${dispatch.problems.join('\n  ')}`);
    process.exitCode = 1;
  }
  if (fanout && fanout.problems.length > 0) {
    console.error(`bench: W${FANOUT_WORKLOAD} FAILED its delivery checks:\n  ${fanout.problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

/**
 * The servers' database. Without W1–W9 and W12 (BENCH_ONLY=11) it has no one-task
 * accounts and no rows to delete: W11 uses neither, and they take minutes.
 */
async function serverFixture(): Promise<Fixture> {
  const perRound = cfg.duration + cfg.warmup;
  const fixture = await buildFixture(path.join(cfg.out, 'work'), {
    tasks: cfg.tasks,
    accounts: cfg.accounts,
    wideAccounts: httpSelected ? cfg.wideAccounts : 0,
    // Enough fresh ids for the deleteTask workload at up to ~25,000 req/s.
    deletablePerAccount: httpSelected ? Math.ceil((25_000 * perRound * cfg.rounds) / cfg.accounts) : 0,
    batchTasks: httpSelected ? 1000 * 22 : 0,
  });
  console.error('bench: fixture built');
  return fixture;
}

/** W1–W9, W12 and W5 against the three servers (each workload on those it has a check for). */
async function httpWorkloads(fixture: Fixture): Promise<HttpResult> {
  const servers: Server[] = [];
  for (const name of ['api', 'yoga-ref', 'bare-ref'] as const) {
    servers.push(await startServer(name, await copyFixture(fixture, name)));
  }
  const api = servers[0]!;
  const rows: Row[] = [];
  try {
    const selected = workloads(fixture).filter((w) => !only || only.includes(w.id));
    const pickers = new Map(selected.map((w) => [w.id, new Map(servers.map((s) => [s.name, w.picker(s.name)]))]));
    // Warm-up: every workload on each of its servers once, unmeasured, so the
    // JIT, caches and pools are in their steady state before anything counts.
    for (const w of selected) {
      for (const s of servers)
        if (cfg.warmup > 0 && runsOn(w, s)) await load(s, w, pickers.get(w.id)!.get(s.name)!, cfg.warmup);
    }
    const rssAfterWarmup = await restingRssMb(api.child.pid!);
    console.error(`bench: warmed up (API RSS ${rssAfterWarmup} MB)`);
    for (const w of selected) {
      const mine = servers.filter((s) => runsOn(w, s));
      const results = new Map<ServerName, Measurement[]>(mine.map((s) => [s.name, []]));
      for (let round = 0; round < cfg.rounds; round++) {
        // Alternate the order each round so no server always runs first.
        const order = round % 2 === 0 ? mine : [...mine].reverse();
        for (const s of order)
          results.get(s.name)!.push(await load(s, w, pickers.get(w.id)!.get(s.name)!, cfg.duration));
      }
      for (const s of mine) {
        const m = results.get(s.name)!;
        rows.push({
          workload: w.id,
          title: w.title,
          server: s.name,
          rps: Math.round(median(m.map((x) => x.rps))),
          p50: median(m.map((x) => x.p50)),
          p99: median(m.map((x) => x.p99)),
          failures: m.reduce((a, x) => a + x.failures, 0),
          checked: m.reduce((a, x) => a + x.checked, 0),
        });
      }
      console.error(`bench: W${w.id} done`);
    }
    const batch = await batchDeletes(api, fixture, 22);
    const statements = await batchStatements(fixture);
    const rssAfterRun = await restingRssMb(api.child.pid!);
    return { rows, batch, statements, rssAfterWarmup, rssAfterRun };
  } finally {
    // Gone before W10 starts, so it runs on a quiet machine.
    await stopServers(servers);
  }
}

/**
 * W11 on its own production server and a fresh copy of the fixture: W1–W9's
 * writes are not in it, and nothing else runs meanwhile. The per-account cap
 * is exactly the subscriber count, so a subscription the server failed to
 * release in an earlier round would be refused and fail the checks.
 */
async function fanoutRun(fixture: Fixture): Promise<FanoutResult> {
  const api = await startServer('api', await copyFixture(fixture, 'fanout'), {
    SUBSCRIPTIONS_PER_ACCOUNT: String(cfg.fanoutSubscribers),
  });
  const hot = workloads(fixture).find((w) => w.id === 1)!;
  const pick = hot.picker('api');
  const account = fixture.accounts[0]!;
  try {
    return await fanoutWorkload(
      {
        base: api.base,
        pid: api.child.pid!,
        key: account.key,
        taskId: account.taskIds[0]!,
        hotRead: (seconds) => load(api, hot, pick, seconds),
        rssMb: () => rssMb(api.child.pid!),
      },
      {
        subscribers: cfg.fanoutSubscribers,
        renames: cfg.fanoutRenames,
        rounds: cfg.rounds,
        duration: cfg.duration,
        warmup: cfg.warmup,
      },
      (line) => console.error(line),
    );
  } finally {
    await stopServers([api]);
  }
}

async function report({
  started,
  http,
  dispatch,
  fanout,
}: {
  started: Date;
  http?: HttpResult;
  dispatch?: DispatchResult;
  fanout?: FanoutResult;
}) {
  const servers = `servers ${pinned ? 'on core 0, load on core 1' : 'not pinned'}`;
  const lines = [
    `Run ${started.toISOString()} on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${cores} cores), Node ${process.version}; ` +
      (http
        ? `${cfg.tasks} tasks / ${cfg.accounts} accounts (+${cfg.wideAccounts}), ${cfg.connections} connections, ` +
          `${cfg.rounds} rounds x ${cfg.duration}s (medians), ${servers}.`
        : fanout
          ? `${cfg.tasks} tasks / ${cfg.accounts} accounts, ${cfg.connections} connections, ${cfg.rounds} rounds x ${cfg.duration}s (medians), ${servers}.`
          : `${cfg.rounds} rounds (medians), ${pinned ? 'on core 1' : 'not pinned'}.`),
  ];
  const targets: (readonly [string, boolean])[] = [];
  if (http) {
    const part = httpReport(http);
    lines.push('', ...part.lines);
    targets.push(...part.targets);
  }
  if (dispatch) {
    const part = dispatchReport(dispatch);
    lines.push('', ...part.lines);
    targets.push(...part.targets);
  }
  if (fanout) {
    const part = fanoutReport(fanout);
    lines.push('', ...part.lines);
    targets.push(...part.targets);
  }
  lines.push(
    '',
    '| target | met |',
    '| --- | --- |',
    ...targets.map(([t, ok]) => `| ${t} | ${ok ? 'yes' : '**no**'} |`),
  );
  if (http) lines.push(...httpNotes(http));
  const markdown = lines.join('\n');
  console.log(markdown);
  const json = {
    started,
    // Others' processes on this machine skew every number: look here first when one surprises.
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg() },
    source: sourceAtStart,
    ...http,
    dispatch,
    fanout,
    config: cfg,
    pinned,
    targets: Object.fromEntries(targets),
    markdown,
  };
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  await mkdir(cfg.out, { recursive: true });
  await writeFile(path.join(cfg.out, `bench-${stamp}.json`), JSON.stringify(json, null, 2));
  await writeFile(path.join(cfg.out, 'latest.json'), JSON.stringify(json, null, 2));
  console.error(`bench: wrote ${path.join(cfg.out, `bench-${stamp}.json`)}`);
}

function httpReport(r: HttpResult) {
  const get = (w: number, s: ServerName) =>
    r.rows.find((x) => x.workload === w && x.server === s) ?? {
      rps: Number.NaN,
      p50: Number.NaN,
      p99: Number.NaN,
      failures: 0,
    };
  const lines = [
    '| # | workload | server | req/s | p50 ms | p99 ms | vs yoga-ref | vs bare-ref | failed / checked |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  /** The ratio to `s` on the same workload, or — where the workload does not run on `s` (W12: yoga-ref). */
  const versus = (row: Row, s: ServerName) => {
    const other = r.rows.find((x) => x.workload === row.workload && x.server === s);
    return other ? `${ratio(row.rps, other.rps).toFixed(2)}x` : '—';
  };
  // In workload order (W12 runs right after W1 but is listed last).
  for (const row of [...r.rows].sort((a, b) => a.workload - b.workload)) {
    lines.push(
      `| ${row.workload} | ${row.title} | ${row.server} | ${row.rps} | ${row.p50} | ${row.p99} | ${versus(row, 'yoga-ref')} | ${versus(row, 'bare-ref')} | ${row.failures} / ${row.checked} |`,
    );
  }
  lines.push(
    `| 5 | deleteTasks, 1,000 ids per call | api | — | ${r.batch.medianMs.toFixed(1)} (median per call) | — | — | — | ${r.batch.failures} / 22 |`,
  );
  const hot = get(1, 'api');
  const targets = [
    ['W1 hot read >= 1.0x yoga-ref', ratio(hot.rps, get(1, 'yoga-ref').rps) >= 1],
    ['W1 hot read >= 0.2x bare-ref', ratio(hot.rps, get(1, 'bare-ref').rps) >= 0.2],
    ['W1 p99 < 10 ms', hot.p99 < 10],
    ['W3 aliases >= 0.5x W1 req/s', ratio(get(3, 'api').rps, hot.rps) >= 0.5],
    // Stored nextRunAt and a cached description: reading them must cost little.
    ['W8 page with nextRunAt+description >= 0.8x W2 page req/s', ratio(get(8, 'api').rps, get(2, 'api').rps) >= 0.8],
    [
      `W5 deleteTasks x1000 < 30 ms median (${r.batch.medianMs.toFixed(1)} ms, ${r.statements} SQL statements)`,
      r.batch.medianMs < 30,
    ],
    ['W4 deleteTask >= 0.5x bare write', ratio(get(4, 'api').rps, get(4, 'bare-ref').rps) >= 0.5],
    ['W6 cancelSchedule >= 0.5x bare write', ratio(get(6, 'api').rps, get(6, 'bare-ref').rps) >= 0.5],
    ['no failed request (non-2xx or GraphQL errors)', r.rows.every((x) => x.failures === 0) && r.batch.failures === 0],
    [
      `RSS after run within 20% of after warm-up (${r.rssAfterWarmup} -> ${r.rssAfterRun} MB)`,
      r.rssAfterRun <= r.rssAfterWarmup * 1.2,
    ],
  ] as const;
  return { lines, targets };
}

/**
 * The code the servers ran: they start from src/ through tsx, so the working
 * tree as it was, uncommitted changes included (other work may be under way).
 */
function sourceTree(): { commit: string; changed: string[] } | undefined {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: path.join(import.meta.dirname, '..'), encoding: 'utf8' }).trim();
    return {
      commit: git('rev-parse', 'HEAD'),
      changed: git('status', '--porcelain', '--', 'src', 'prisma')
        .split('\n')
        .filter((l) => l !== ''),
    };
  } catch {
    return undefined;
  }
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);

/**
 * W9 has no target: the references answer croner's instants alone (no key,
 * rate limit, validation, local times or `shifted`), so the ratio is what
 * that work costs, followed from run to run rather than gated. W12 has none
 * yet either: the REST door's hot read against GraphQL's (W1) and the
 * machine's limit, followed from run to run.
 */
function httpNotes(r: HttpResult): string[] {
  const row = (w: number, s: ServerName) => r.rows.find((x) => x.workload === w && x.server === s);
  const rps = (w: number, s: ServerName) => row(w, s)?.rps ?? Number.NaN;
  const notes: string[] = [];
  const preview = row(9, 'api');
  if (preview)
    notes.push(
      `W9 schedulePreview (no target): ${ratio(preview.rps, rps(9, 'yoga-ref')).toFixed(2)}x yoga-ref ` +
        `(yoga + cronstrue + croner's naive nextRuns), ${ratio(preview.rps, rps(9, 'bare-ref')).toFixed(2)}x bare-ref.`,
    );
  const door = row(12, 'api');
  if (door) {
    const hot = row(1, 'api');
    notes.push(
      `W12 REST GET /v1/tasks/:id (no target): ${door.rps} req/s, p99 ${door.p99} ms; ` +
        (hot ? `${ratio(door.rps, hot.rps).toFixed(2)}x W1 api (task(id:) over GraphQL)` : 'W1 not in this run') +
        `, ${ratio(door.rps, rps(12, 'bare-ref')).toFixed(2)}x bare-ref (its W1 read, measured in W12's rounds); ` +
        'no yoga-ref (no REST path).',
    );
  }
  return notes.length ? ['', ...notes.flatMap((n, i) => (i ? ['', n] : [n]))] : [];
}

await main();
