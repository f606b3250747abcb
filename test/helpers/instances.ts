// Processes of the project as deployed (`npm start`'s command, or the
// scheduler's), with no npm in front, as a process manager runs them: for
// suites that need several instances on one database and one Redis.
import { type ChildProcess, spawn } from 'node:child_process';
import { until } from './until.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** http://localhost:<port>/graphql (API instances; '' for a process that serves none). */
  url: string;
  wsUrl: string;
  base: string;
  /** Its stdout and stderr so far. */
  output(): string;
  /** Its JSON log lines. */
  lines(): Record<string, unknown>[];
  exited: Promise<Exit>;
}

export interface StartOptions {
  /** For messages. */
  name: string;
  /** Added to (or overriding) the environment: DATABASE_URL, REDIS_URL, … */
  env: Record<string, string>;
  /** Default: the API server. */
  script?: string;
  /** The log line that says it is up. Default: the server's "listening". */
  ready?: RegExp;
  startTimeoutMs?: number;
  /**
   * How the clean-up stops it if it still runs: SIGTERM, then SIGKILL after
   * this long; 0 kills it at once (a test that kills instances anyway).
   */
  graceMs?: number;
  /** The suite's clean-ups, run in its afterAll: it is stopped there, before the database is dropped. */
  cleanups: (() => unknown)[];
}

/** Starts a process of the project; resolves once its log has a line matching `ready`. */
export async function startProcess({
  name,
  env,
  script = 'src/server.ts',
  ready = /"msg":"listening"/,
  startTimeoutMs = 60_000,
  graceMs = 10_000,
  cleanups,
}: StartOptions): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: new URL('../..', import.meta.url),
    // Not development: its demo account's tasks would fire too.
    env: { ...process.env, NODE_ENV: 'production', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  // Never left behind, even if the test worker dies without its afterAll.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  void exited.then(() => process.off('exit', orphanGuard));
  const alive = () => child.exitCode === null && child.signalCode === null;
  cleanups.push(async () => {
    if (!alive()) return;
    child.kill(graceMs === 0 ? 'SIGKILL' : 'SIGTERM');
    const timer = graceMs === 0 ? undefined : setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  });
  try {
    await until(`${name} to start`, () => ready.test(output) || !alive(), startTimeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}:\n${output}`);
  }
  if (!alive()) throw new Error(`${name} exited at start:\n${output}`);
  const url = output.match(/"url":"(http:\/\/localhost:\d+\/graphql)"/)?.[1] ?? '';
  return {
    name,
    child,
    pid: child.pid!,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    base: url.replace(/\/graphql$/, ''),
    output: () => output,
    lines: () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    exited,
  };
}
