import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const projectDir = new URL('../..', import.meta.url);

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall-clock time of the whole command, npm included. */
  ms: number;
}

/** Runs an npm script the way an operator would, in the project folder. */
export function npmRun(args: string[], env: Record<string, string>): Promise<Ran> {
  return run('npm', ['run', '--silent', ...args], { NODE_ENV: 'test', ...env });
}

/** Runs a command in the project folder to its end, with this environment added. */
export function run(command: string, args: string[], env: Record<string, string>): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: projectDir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

export interface Started {
  /** npm's process; also the id of the process group it leads. */
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** stderr alone. */
  stderr(): string;
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves when npm has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Test clean-up: SIGKILL whatever is left of the process group. */
  killGroup(): void;
}

/**
 * `npm start --silent` (or another script, e.g. `dev`) as a user or a process
 * manager runs it, in its own process group (so a test can tell what the
 * server left behind).
 */
export function npmStart(env: Record<string, string>, script = 'start'): Started {
  const child = spawn('npm', ['run', script, '--silent'], {
    cwd: projectDir,
    env: { ...process.env, NODE_ENV: 'development', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (pattern: RegExp, ms = 30_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const deadline = Date.now() + ms;
      const check = () => {
        const m = output.match(pattern);
        if (m) resolve(m);
        else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`));
        else setTimeout(check, 50);
      };
      check();
    });
  return {
    child,
    output: () => output,
    stderr: () => stderr,
    waitFor,
    exited,
    killGroup: () => {
      if (processesInGroup(child.pid!).length > 0) process.kill(-child.pid!, 'SIGKILL');
    },
  };
}

/** Live (not zombie) processes of a process group, from /proc: "pid command" each. */
export function processesInGroup(pgid: number): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const [state, , pgrp] = stat.slice(close + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') found.push(`${entry} ${stat.slice(stat.indexOf('(') + 1, close)}`);
  }
  return found;
}
