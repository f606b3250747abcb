// W11, fan-out (issue 12): 1,000 subscribers of one account hold `taskEvents`
// open over GraphQL over SSE on one production server (started by run.ts on
// its own core, with SUBSCRIPTIONS_PER_ACCOUNT raised to the subscriber
// count). This process is the load side: node:http, one socket per
// subscriber, each stream parsed as it arrives.
//
// - **Fan-out**: one task of that account is renamed (updateTask) 100 times,
//   one rename at a time, 30 ms after the previous one reached every
//   subscriber. For each: from its response (as this process received it) to
//   the event reaching the last subscriber and the first; p50/p99 over the
//   renames. The server publishes before it answers — in memory, so every
//   subscriber's event is executed before the response goes out — hence also
//   "from sent" (the whole trip) and updateTask's round trip with and without
//   subscribers (what the fan-out costs the client that made the change).
// - **Exactly once, in order**: every subscriber must receive every rename
//   once, in the order made, with the version updateTask answered, and
//   nothing else (nothing at all while only reads run); a subscriber refused
//   (RateLimited) or ended by the server counts too. A violation fails the
//   bench, as W10's does.
// - **Hot read**: W1's request with 1,000 subscribers open (idle, opened
//   afresh each round) and without them, alternating which goes first over
//   the rounds: what holding the streams costs everyone else's requests.
//   Each side is measured after an unmeasured read, in a steady state: not
//   just after the renames, the opening or the closing, whose garbage would
//   otherwise be collected inside one side of the comparison.
//
// CPU per rename (the server's from /proc, this process's from cpuUsage) says
// which side the fan-out time is spent on; the CPU other processes took
// meanwhile (/proc/stat) says whether the machine was shared.
import { readFileSync } from 'node:fs';
import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http';
import { median, percentile, pool, sleep } from './dispatch.js';

export const FANOUT_WORKLOAD = 11;

export interface FanoutConfig {
  subscribers: number;
  /** Renames measured, one set of subscribers hearing them all. */
  renames: number;
  rounds: number;
  /** Seconds of each hot-read measurement. */
  duration: number;
  /** Seconds of the unmeasured warm-up hot read; 0 skips the warm-up. */
  warmup: number;
}

export interface HotRead {
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  checked: number;
}

/** What run.ts provides: the server under test and W1's hot read against it. */
export interface FanoutServer {
  base: string;
  pid: number;
  /** The subscribers' account. */
  key: string;
  /** One of its tasks, the one renamed. */
  taskId: string;
  hotRead(seconds: number): Promise<HotRead>;
  rssMb(): number;
}

/** One measured rename, in ms. */
export interface RenameSample {
  /** From updateTask's response to the event at the last subscriber (the target). */
  lastMs: number;
  /** … and at the first (negative: before the response). */
  firstMs: number;
  /** From sending updateTask to the event at the last subscriber. */
  fromSentMs: number;
  /** updateTask's round trip. */
  mutationMs: number;
}

export interface FanoutResult {
  config: FanoutConfig;
  samples: RenameSample[];
  last: { p50: number; p99: number; max: number };
  first: { p50: number; p99: number };
  fromSent: { p50: number; p99: number };
  mutation: { p50: number; p99: number };
  /** updateTask's round trip with no subscriber open: what the fan-out adds to it. */
  mutationAlone: { p50: number; p99: number };
  /** CPU time per measured rename (ms): the server process, and this one (the subscribers). */
  cpuPerRename: { server: number; bench: number };
  /**
   * Share of the machine's CPU that other processes used (and the hypervisor
   * stole) while renames and hot reads were measured: on a shared machine,
   * the first thing to look at when a number surprises.
   */
  othersPct: { renames: number; hotWith: number; hotWithout: number; steal: number };
  /** Opening every subscriber (median over the openings). */
  openMs: number;
  hot: { with: HotRead[]; without: HotRead[]; withRps: number; withoutRps: number; ratio: number };
  /** Server RSS before each hot read (medians): with the subscribers open (idle) and without. */
  rss: { with: number; without: number };
  /** What broke exactly-once (or the run), warm-up included; empty when nothing did. */
  problems: string[];
}

/** What every subscriber selects: a realistic event, with what identifies a rename. */
const SUBSCRIPTION = JSON.stringify({
  query:
    'subscription Fanout { taskEvents { __typename ... on TaskChanged { change task { id name status version nextRunAt } } ... on Error { code message } } }',
});
const RENAME =
  'mutation Rename($id: ID!, $name: String!) { updateTask(id: $id, input: { name: $name }) { __typename ... on UpdateTaskSuccess { changed task { id name version } } ... on Error { code message } } }';
/** Between a rename reaching everyone and the next one. */
const SPACING_MS = 30;
/** A rename not heard by every subscriber by then is a failure, not a slow sample. */
const HEAR_TIMEOUT_MS = 5_000;
/** Subscriptions being opened at once (all 1,000 at once would overflow the listen backlog, 511). */
const OPENING = 50;
/** After closing the subscribers: the server ends their streams before anything is measured. */
const SETTLE_MS = 1_000;
const WARMUP_RENAMES = 10;

// ----------------------------------------------------------- subscribers

/** One SSE stream: what it received, in order. */
class Subscriber {
  /** Name and version of each TaskChanged of the task. */
  readonly names: string[] = [];
  readonly versions: number[] = [];
  /** Anything else that arrived: an error, `complete`, an event of another kind. */
  readonly strange: string[] = [];
  /** The server ended the stream (or the socket failed) before we closed it. */
  endedEarly = false;
  closing = false;
  req: ClientRequest | undefined;
  #pending = '';

  constructor(
    private readonly taskId: string,
    private readonly heard: (name: string, at: number) => void,
  ) {}

  /** A chunk of the stream: complete `\n\n`-terminated blocks are handled, the rest kept. */
  receive(chunk: string): void {
    // One timestamp per chunk: when its bytes reached this process.
    const at = performance.now();
    let text = this.#pending + chunk;
    for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n')) {
      this.#block(text.slice(0, end), at);
      text = text.slice(end + 2);
    }
    this.#pending = text;
  }

  ended(): void {
    if (!this.closing) this.endedEarly = true;
  }

  #block(block: string, at: number): void {
    if (block.startsWith(':')) return; // yoga's ping
    const data = block.indexOf('\ndata: ');
    if (!block.startsWith('event: next') || data === -1) {
      this.strange.push(block.slice(0, 200));
      return;
    }
    let event: { __typename?: string; task?: { id?: string; name?: string; version?: number } } | undefined;
    try {
      event = JSON.parse(block.slice(data + 7)).data?.taskEvents;
    } catch {}
    const task = event?.task;
    if (event?.__typename !== 'TaskChanged' || task?.id !== this.taskId || typeof task.name !== 'string') {
      this.strange.push(block.slice(0, 200));
      return;
    }
    this.names.push(task.name);
    this.versions.push(task.version ?? Number.NaN);
    this.heard(task.name, at);
  }
}

/** Opens one subscription; resolves once its response headers arrived, i.e. the server is listening for it. */
function subscribe(server: FanoutServer, agent: Agent, sub: Subscriber): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.base}/graphql`, {
      method: 'POST',
      agent,
      headers: {
        accept: 'text/event-stream',
        'content-type': 'application/json',
        'x-access-key': server.key,
        'content-length': Buffer.byteLength(SUBSCRIPTION),
      },
    });
    sub.req = req;
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
        reject(new Error(`subscription answered ${res.statusCode} ${res.headers['content-type']}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => sub.receive(chunk));
      res.on('close', () => sub.ended());
      resolve();
    });
    req.on('error', (err) => {
      sub.ended();
      reject(err); // ignored once resolved
    });
    req.end(SUBSCRIPTION);
  });
}

/** The renames in flight and done, by the name they give the task. */
class Renames {
  readonly #byName = new Map<string, Rename>();
  /** @param live the subscribers whose streams are still open (one the server ended will hear nothing). */
  constructor(readonly live: () => number) {}

  add(r: Rename): void {
    this.#byName.set(r.name, r);
  }

  /** A subscriber received the event of the rename to `name` at `at`. */
  heard = (name: string, at: number): void => {
    const r = this.#byName.get(name);
    if (!r) return; // unknown to this round: the per-subscriber check reports it
    r.heard++;
    if (at < r.first) r.first = at;
    if (at > r.last) r.last = at;
    if (r.heard === r.listeners) r.allHeard();
  };
}

interface Rename {
  name: string;
  sentAt: number;
  answeredAt: number;
  /** The task's version updateTask answered. */
  version: number;
  /** Subscribers open when it was sent: how many must hear it. */
  listeners: number;
  heard: number;
  first: number;
  last: number;
  allHeard: () => void;
}

/** Opens the subscribers, `OPENING` at a time, each on its own socket. */
async function openSubscribers(server: FanoutServer, subs: Subscriber[]): Promise<void> {
  const agent = new Agent({ keepAlive: false, maxSockets: subs.length });
  await pool(subs.length, OPENING, (i) => subscribe(server, agent, subs[i]!));
}

async function closeSubscribers(subs: Subscriber[]): Promise<void> {
  for (const s of subs) {
    s.closing = true;
    s.req?.destroy();
  }
  await sleep(SETTLE_MS);
}

// ---------------------------------------------------------------- renames

/** POST /graphql on a keep-alive socket; `at`: when the whole response had arrived. */
function post(server: FanoutServer, agent: Agent, body: string): Promise<{ status: number; body: string; at: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.base}/graphql`, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'x-access-key': server.key,
        'content-length': Buffer.byteLength(body),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, at: performance.now() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Renames the task to `name` and waits until every subscriber heard of it (or HEAR_TIMEOUT_MS). */
async function rename(server: FanoutServer, agent: Agent, renames: Renames, name: string): Promise<Rename> {
  let allHeard!: () => void;
  const everyone = new Promise<void>((resolve) => {
    allHeard = resolve;
  });
  const r: Rename = {
    name,
    sentAt: performance.now(),
    answeredAt: Number.NaN,
    version: Number.NaN,
    listeners: renames.live(),
    heard: 0,
    first: Number.POSITIVE_INFINITY,
    last: Number.NEGATIVE_INFINITY,
    allHeard,
  };
  // Known before sending: the server may publish before it answers.
  renames.add(r);
  const res = await post(server, agent, JSON.stringify({ query: RENAME, variables: { id: server.taskId, name } }));
  r.answeredAt = res.at;
  const answer = (() => {
    try {
      return JSON.parse(res.body).data?.updateTask;
    } catch {
      return undefined;
    }
  })();
  if (res.status !== 200 || answer?.__typename !== 'UpdateTaskSuccess' || answer.task?.name !== name)
    throw new Error(`updateTask to "${name}" answered ${res.status} ${res.body.slice(0, 300)}`);
  r.version = answer.task.version;
  if (r.heard < r.listeners) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([everyone, new Promise((resolve) => (timer = setTimeout(resolve, HEAR_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }
  return r;
}

/** `count` renames one at a time, SPACING_MS apart; names are unique over the run (`label`). */
async function renameMany(server: FanoutServer, renames: Renames, label: string, count: number): Promise<Rename[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const done: Rename[] = [];
  try {
    for (let i = 0; i < count; i++) {
      done.push(await rename(server, agent, renames, `fanout ${label} #${i + 1}`));
      await sleep(SPACING_MS);
    }
  } finally {
    agent.destroy();
  }
  return done;
}

// -------------------------------------------------------------------- CPU

/** CPU time in ms: the server's, this process's, the rest of the machine's, stolen; and the machine's capacity. */
interface CpuUse {
  server: number;
  bench: number;
  others: number;
  steal: number;
  capacity: number;
}
const noCpu = (): CpuUse => ({ server: 0, bench: 0, others: 0, steal: 0, capacity: 0 });
/** /proc counts in clock ticks (USER_HZ, 100 on Linux). */
const TICK_MS = 10;

/** user + system CPU of a process (/proc/<pid>/stat). */
function processMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm) ": state is field 3, utime 14 and stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** All cores (/proc/stat): busy (user nice system irq softirq), steal and everything. */
function machineMs(): { busy: number; steal: number; total: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .slice(0, 200)
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map((n) => Number(n) * TICK_MS) as [number, number, number, number, number, number, number, number];
  return {
    busy: user + nice + system + irq + softirq,
    steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
  };
}

/** Runs `work`, adding to `into` the CPU it took and what other processes took meanwhile. */
async function metered<T>(pid: number, into: CpuUse, work: () => Promise<T>): Promise<T> {
  const server = processMs(pid);
  const bench = process.cpuUsage();
  const machine = machineMs();
  try {
    return await work();
  } finally {
    const benchUsed = process.cpuUsage(bench);
    const now = machineMs();
    const serverMs = processMs(pid) - server;
    const benchMs = (benchUsed.user + benchUsed.system) / 1000;
    into.server += serverMs;
    into.bench += benchMs;
    into.others += Math.max(0, now.busy - machine.busy - serverMs - benchMs);
    into.steal += now.steal - machine.steal;
    into.capacity += now.total - machine.total;
  }
}

const share = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : Number.NaN);

// ---------------------------------------------------------------- checks

/** Each subscriber against the renames of its round: all of them, once each, in order, and nothing else. */
function deliveryProblems(subs: Subscriber[], done: Rename[], label: string): string[] {
  const problems: string[] = [];
  const names = done.map((r) => r.name);
  const versions = done.map((r) => r.version);
  const unheard = done.filter((r) => r.heard < subs.length);
  if (unheard.length > 0)
    problems.push(
      `${label}: ${unheard.length} renames not heard by every subscriber (each open one had ${HEAR_TIMEOUT_MS} ms), e.g. "${unheard[0]!.name}" by ${unheard[0]!.heard} of ${subs.length}`,
    );
  const wrong = subs.filter(
    (s) =>
      s.names.length !== names.length ||
      s.names.some((n, i) => n !== names[i]) ||
      s.versions.some((v, i) => v !== versions[i]),
  );
  if (wrong.length > 0) {
    const s = wrong[0]!;
    const missing = names.filter((n) => !s.names.includes(n)).length;
    const duplicates = s.names.length - new Set(s.names).size;
    const strangers = s.names.filter((n) => !names.includes(n)).length;
    problems.push(
      `${label}: ${wrong.length} of ${subs.length} subscribers did not receive the ${names.length} renames exactly once in order ` +
        `with their versions; e.g. one got ${s.names.length} (${missing} missing, ${duplicates} duplicates, ${strangers} unknown)`,
    );
  }
  const strange = subs.filter((s) => s.strange.length > 0);
  if (strange.length > 0)
    problems.push(
      `${label}: ${strange.length} subscribers received something else, e.g. ${JSON.stringify(strange[0]!.strange[0])}`,
    );
  const ended = subs.filter((s) => s.endedEarly).length;
  if (ended > 0) problems.push(`${label}: ${ended} streams ended by the server`);
  return problems;
}

// ------------------------------------------------------------------ main

export async function fanoutWorkload(
  server: FanoutServer,
  cfg: FanoutConfig,
  log: (line: string) => void,
): Promise<FanoutResult> {
  const problems: string[] = [];
  const samples: RenameSample[] = [];
  let alone: Rename[] = [];
  const cpu = { renames: noCpu(), hotWith: noCpu(), hotWithout: noCpu() };
  const hot = { with: [] as HotRead[], without: [] as HotRead[] };
  const rss = { with: [] as number[], without: [] as number[] };
  const openMs: number[] = [];

  /**
   * Opens every subscriber, runs `work` (the renames it makes, if any), then
   * checks that each subscriber received exactly those and closes them all.
   */
  const withSubscribers = async (label: string, work: (renames: Renames) => Promise<Rename[]>) => {
    const renames = new Renames(() => subs.reduce((n, s) => n + (s.endedEarly ? 0 : 1), 0));
    const subs: Subscriber[] = Array.from(
      { length: cfg.subscribers },
      () => new Subscriber(server.taskId, renames.heard),
    );
    try {
      const opening = performance.now();
      await openSubscribers(server, subs);
      openMs.push(performance.now() - opening);
      problems.push(...deliveryProblems(subs, await work(renames), label));
    } finally {
      await closeSubscribers(subs);
    }
  };

  /**
   * W1's hot read in a steady state: an unmeasured one first (warm-up
   * seconds) absorbs what opening or closing 1,000 streams just left to the
   * collector, so each side is measured idle rather than just after a change.
   */
  const steadyHotRead = async (into: CpuUse, rssMb: number[]) => {
    if (cfg.warmup > 0) await server.hotRead(cfg.warmup);
    rssMb.push(server.rssMb());
    return metered(server.pid, into, () => server.hotRead(cfg.duration));
  };

  try {
    if (cfg.warmup > 0) {
      await server.hotRead(cfg.warmup);
      await withSubscribers('warm-up', (renames) => renameMany(server, renames, 'warm-up', WARMUP_RENAMES));
      log(`bench: W${FANOUT_WORKLOAD} warmed up`);
    }
    await withSubscribers('fan-out', async (renames) => {
      const done = await metered(server.pid, cpu.renames, () => renameMany(server, renames, 'fan-out', cfg.renames));
      samples.push(...done.filter((r) => r.heard === cfg.subscribers).map(sample));
      return done;
    });
    // The same renames with no one listening: what the fan-out adds to updateTask.
    alone = await renameMany(server, new Renames(() => 0), 'alone', cfg.renames);
    log(`bench: W${FANOUT_WORKLOAD} renames done`);
    for (let round = 0; round < cfg.rounds; round++) {
      // Alternate which goes first, so neither always follows the other's opening or closing.
      const phases = round % 2 === 0 ? (['with', 'without'] as const) : (['without', 'with'] as const);
      for (const phase of phases) {
        if (phase === 'with')
          await withSubscribers(`hot read, round ${round + 1}`, async () => {
            hot.with.push(await steadyHotRead(cpu.hotWith, rss.with));
            return [];
          });
        else hot.without.push(await steadyHotRead(cpu.hotWithout, rss.without));
      }
      log(`bench: W${FANOUT_WORKLOAD} round ${round + 1} done`);
    }
  } catch (err) {
    problems.push(`aborted: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const [phase, reads] of Object.entries(hot)) {
    const failures = reads.reduce((a, m) => a + m.failures, 0);
    if (failures > 0) problems.push(`hot read ${phase} subscribers: ${failures} failed requests`);
  }
  if (problems.length > 0) log(`  ! W${FANOUT_WORKLOAD}: ${problems.join('; ')}`);
  const withRps = median(hot.with.map((m) => m.rps));
  const withoutRps = median(hot.without.map((m) => m.rps));
  const pct = (pick: (s: RenameSample) => number, p: number) => percentile(samples.map(pick), p);
  const aloneMs = alone.map((r) => sample(r).mutationMs);
  return {
    config: cfg,
    samples,
    last: { p50: pct((s) => s.lastMs, 50), p99: pct((s) => s.lastMs, 99), max: pct((s) => s.lastMs, 100) },
    first: { p50: pct((s) => s.firstMs, 50), p99: pct((s) => s.firstMs, 99) },
    fromSent: { p50: pct((s) => s.fromSentMs, 50), p99: pct((s) => s.fromSentMs, 99) },
    mutation: { p50: pct((s) => s.mutationMs, 50), p99: pct((s) => s.mutationMs, 99) },
    mutationAlone: { p50: percentile(aloneMs, 50), p99: percentile(aloneMs, 99) },
    cpuPerRename: { server: cpu.renames.server / samples.length, bench: cpu.renames.bench / samples.length },
    othersPct: {
      renames: share(cpu.renames.others, cpu.renames.capacity),
      hotWith: share(cpu.hotWith.others, cpu.hotWith.capacity),
      hotWithout: share(cpu.hotWithout.others, cpu.hotWithout.capacity),
      steal: share(
        cpu.renames.steal + cpu.hotWith.steal + cpu.hotWithout.steal,
        cpu.renames.capacity + cpu.hotWith.capacity + cpu.hotWithout.capacity,
      ),
    },
    openMs: median(openMs),
    hot: { ...hot, withRps, withoutRps, ratio: withRps / withoutRps },
    rss: { with: median(rss.with), without: median(rss.without) },
    problems,
  };
}

const sample = (r: Rename): RenameSample => ({
  lastMs: r.last - r.answeredAt,
  firstMs: r.first - r.answeredAt,
  fromSentMs: r.last - r.sentAt,
  mutationMs: r.answeredAt - r.sentAt,
});

// ---------------------------------------------------------------- report

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const percent = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)}%` : '—');

/** The workload's Markdown rows and targets (appended to the bench's report). */
export function fanoutReport(r: FanoutResult): { lines: string[]; targets: [string, boolean][] } {
  const { subscribers, renames, rounds, duration, warmup } = r.config;
  const n = subscribers.toLocaleString('en-US');
  const lines = [
    `W${FANOUT_WORKLOAD}: fan-out — ${n} SSE subscribers (node:http, in the bench process) of one account on the production server, ` +
      `taskEvents selecting TaskChanged { change task { id name status version nextRunAt } }; ${r.samples.length} of ${renames} updateTask renames of one task measured, ` +
      `one at a time, ${SPACING_MS} ms after the previous one reached every subscriber. ` +
      "Times from updateTask's response as this process received it (the server publishes, and executes every subscriber's event, before it answers). " +
      `Hot read: W1's request, ${duration}s with the subscribers open (idle) and without, each after an unmeasured ${warmup}s read, ` +
      `alternating order over ${rounds} rounds (medians).`,
    '',
    '| # | workload | p50 ms | p99 ms | max ms |',
    '| --- | --- | ---: | ---: | ---: |',
    `| ${FANOUT_WORKLOAD} | rename → event at the last of ${n} subscribers | ${ms(r.last.p50)} | ${ms(r.last.p99)} | ${ms(r.last.max)} |`,
    `| ${FANOUT_WORKLOAD} | rename → event at the first subscriber | ${ms(r.first.p50)} | ${ms(r.first.p99)} | — |`,
    `| ${FANOUT_WORKLOAD} | rename sent → event at the last subscriber | ${ms(r.fromSent.p50)} | ${ms(r.fromSent.p99)} | — |`,
    `| ${FANOUT_WORKLOAD} | updateTask round trip | ${ms(r.mutation.p50)} | ${ms(r.mutation.p99)} | — |`,
    `| ${FANOUT_WORKLOAD} | updateTask round trip, no subscribers | ${ms(r.mutationAlone.p50)} | ${ms(r.mutationAlone.p99)} | — |`,
    '',
    '| # | workload | server | req/s | p50 ms | p99 ms | failed / checked |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
    ...(['with', 'without'] as const).map((phase) => {
      const m = r.hot[phase];
      return (
        `| ${FANOUT_WORKLOAD} | task(id:) hot read, ${phase === 'with' ? `${n} subscribers open` : 'no subscribers'} | api | ` +
        `${Math.round(phase === 'with' ? r.hot.withRps : r.hot.withoutRps)} | ${median(m.map((x) => x.p50))} | ${median(m.map((x) => x.p99))} | ` +
        `${m.reduce((a, x) => a + x.failures, 0)} / ${m.reduce((a, x) => a + x.checked, 0)} |`
      );
    }),
    '',
    `W${FANOUT_WORKLOAD} CPU per rename: server ${ms(r.cpuPerRename.server)} ms, bench process (the subscribers) ${ms(r.cpuPerRename.bench)} ms; ` +
      `server RSS ${r.rss.with} MB with the subscribers open, ${r.rss.without} MB without; opening ${n} took ${Math.round(r.openMs)} ms. ` +
      `Other processes used ${percent(r.othersPct.renames)} of the machine's CPU during the renames, ${percent(r.othersPct.hotWith)} / ` +
      `${percent(r.othersPct.hotWithout)} during the hot reads with / without subscribers (stolen: ${percent(r.othersPct.steal)}).`,
  ];
  return {
    lines,
    targets: [
      [
        `W${FANOUT_WORKLOAD} fan-out p99 < 100 ms (response → last of ${n} subscribers: ${ms(r.last.p99)} ms)`,
        r.last.p99 < 100,
      ],
      [
        `W${FANOUT_WORKLOAD} hot read with ${n} subscribers >= 0.9x without (${r.hot.ratio.toFixed(2)}x)`,
        r.hot.ratio >= 0.9,
      ],
      [
        `W${FANOUT_WORKLOAD} every subscriber received every rename exactly once, in order (${r.samples.length} renames x ${n} subscribers)`,
        r.problems.length === 0,
      ],
    ],
  };
}
