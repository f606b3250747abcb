// What fires a run: each instance's dispatcher loop. It sleeps until the
// earliest due time (at most a second, so times planned by other instances
// are seen), takes over runs whose dispatcher died, claims due times
// (services/runs/claim.ts decides what each becomes) and executes the runs it
// claimed, at most `concurrency` at once, retrying failed attempts with
// backoff. Any number of dispatchers may share one database.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Task, TaskRun } from '../db/models.js';
import type { RunEnd, RunToExecute } from '../db/run-writes.js';
import type { Logger } from '../logger.js';
import { claimDueRuns } from '../services/runs/claim.js';
import type { RunDeps } from '../services/runs/deps.js';
import { endRuns, renewLease, takeOverRuns } from '../services/runs/lease.js';
import { leaseMs, retryDelayMs } from '../services/runs/policy.js';
import { pruneOldRuns } from '../services/runs/prune.js';
import type { Runner } from '../services/runs/runner.js';
import { callExecutor } from './executor-client.js';

export interface DispatcherOptions {
  deps: RunDeps;
  logger: Logger;
  /** Longest sleep between passes (ms): how soon times planned elsewhere are seen. */
  maxIdleMs?: number;
  /** How often old runs are pruned (ms). */
  pruneEveryMs?: number;
  random?: () => number;
}

/** What one pass did. */
export interface Pass {
  /** Runs taken over from dispatchers that went away, now executing here. */
  resumed: number;
  /** Runs whose attempts were used up by a dispatcher that went away. */
  timedOut: number;
  /** Due tasks handled: started or skipped. */
  handled: number;
  /** Runs this pass started. */
  started: number;
  /** Due tasks or runs the pass could have taken had it had room. */
  full: boolean;
}

/** Waiting when a pass found due work it could not do (its rows were busy). */
const BUSY_RETRY_MS = 50;

/** How long a freed slot waits for others before the loop claims (ms). */
const WAKE_COALESCE_MS = 2;

/** How often the loop looks for runs to take over (ms); tick() always does. */
const TAKE_OVER_EVERY_MS = 250;

/** Waits between tries of a write that records or hands over a run (about 2 s in all, inside a lease's margin). */
const PERSIST_RETRY_MS = [100, 250, 500, 1000];

export class Dispatcher implements Runner {
  readonly #deps: RunDeps;
  readonly #log: Logger;
  readonly #maxIdleMs: number;
  readonly #pruneEveryMs: number;
  readonly #random: () => number;
  /** Slots reserved or executing. */
  #busy = 0;
  readonly #executing = new Set<Promise<void>>();
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** stop() waiting for the last slot to be given back. */
  #onFree: (() => void) | undefined;
  /** A slot was freed since the last pass began: the next sleep is skipped. */
  #freed = false;
  /** Wakes the loop shortly after a slot frees, so one pass claims for several. */
  #wakeSoon: NodeJS.Timeout | undefined;
  /** When the loop next looks for runs to take over (performance.now() ms). */
  #takeOverAt = Number.NEGATIVE_INFINITY;
  /** Runs that ended since the last group commit, waiting for it. */
  #ending: { run: TaskRun; end: RunEnd; done: (task: Task | null) => void; fail: (e: unknown) => void }[] = [];
  #stop = new AbortController();
  #pruneTimer: NodeJS.Timeout | undefined;

  constructor(options: DispatcherOptions) {
    this.#deps = options.deps;
    this.#log = options.logger;
    this.#maxIdleMs = options.maxIdleMs ?? 1000;
    this.#pruneEveryMs = options.pruneEveryMs ?? 60_000;
    this.#random = options.random ?? Math.random;
  }

  /** Runs executing (or reserved) on this instance. */
  get inFlight(): number {
    return this.#busy;
  }

  /** Starts the loop and the retention timer. */
  start(): void {
    this.#loop ??= this.#run();
    let pruning = false;
    const prune = () => {
      if (pruning) return; // a long backlog: the running prune goes on
      pruning = true;
      pruneOldRuns(this.#deps)
        .then(
          (n) => n > 0 && this.#log.info({ runs: n }, 'pruned old runs'),
          (err) => this.#log.error({ err }, 'pruning old runs failed'),
        )
        .finally(() => {
          pruning = false;
        });
    };
    prune();
    this.#pruneTimer = setInterval(prune, this.#pruneEveryMs).unref();
  }

  /**
   * Stops claiming, lets runs in flight finish their current attempt (bounded
   * by the executor timeout) and records them; a run with attempts left is
   * handed over to any other dispatcher at once instead of waiting here.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stop.abort();
    clearInterval(this.#pruneTimer);
    this.#wake?.();
    await this.#loop;
    // Also a slot reserved by a runTask still committing: its run is handed
    // over (or executed) before the database closes.
    for (;;) {
      await this.idle();
      if (this.#busy === 0) return;
      await new Promise<void>((resolve) => {
        this.#onFree = resolve;
      });
    }
  }

  /** Resolves when no run is executing here (tests). */
  async idle(): Promise<void> {
    while (this.#executing.size > 0) await Promise.allSettled([...this.#executing]);
  }

  reserve(): boolean {
    if (this.#stopping || this.#busy >= this.#deps.runs.concurrency) return false;
    this.#busy++;
    return true;
  }

  release(): void {
    this.#busy--;
    this.#freed = true;
    if (this.#busy === 0) {
      this.#onFree?.();
      this.#onFree = undefined;
    }
    // Not at once: runs end in bursts, and one pass claiming for several
    // freed slots costs one transaction instead of several.
    this.#wakeSoon ??= setTimeout(() => {
      this.#wakeSoon = undefined;
      this.#wake?.();
    }, WAKE_COALESCE_MS);
  }

  execute(work: RunToExecute): void {
    // The slot is given back while the run waits to retry (see #attempts).
    const slot = { held: true };
    const done = this.#attempts(work, slot)
      .catch((err) =>
        this.#log.error({ err, runId: work.run.id }, 'run failed unexpectedly; its lease will hand it over'),
      )
      .finally(() => {
        this.#executing.delete(done);
        if (slot.held) this.release();
      });
    this.#executing.add(done);
  }

  /** One pass: take over orphaned runs, then claim due times, as far as free slots allow. */
  tick(): Promise<Pass> {
    return this.#pass(true);
  }

  async #pass(takeOver: boolean): Promise<Pass> {
    const pass: Pass = { resumed: 0, timedOut: 0, handled: 0, started: 0, full: false };
    if (this.#stopping) return pass;
    this.#freed = false;
    // Reserve every free slot for the pass, give back what it did not use.
    let slots = 0;
    while (this.reserve()) slots++;
    try {
      if (slots === 0) {
        // No room to resume runs, but runs whose attempts are used up can still end.
        if (takeOver) pass.timedOut = (await takeOverRuns(this.#deps, 0)).timedOut;
        return { ...pass, full: true };
      }
      const taken = takeOver ? await takeOverRuns(this.#deps, slots) : { resumed: [], timedOut: 0 };
      pass.resumed = taken.resumed.length;
      pass.timedOut = taken.timedOut;
      for (const work of taken.resumed) {
        slots--;
        this.execute(work);
      }
      if (slots > 0) {
        const asked = slots;
        const claimed = await claimDueRuns(this.#deps, asked);
        pass.handled = claimed.handled;
        pass.started = claimed.started.length;
        for (const work of claimed.started) {
          slots--;
          this.execute(work);
        }
        // Only a pass that did something may go again at once: a batch of rows it
        // could not claim would otherwise spin.
        pass.full = claimed.seen >= asked && claimed.handled > 0;
      } else {
        pass.full = true;
      }
      return pass;
    } finally {
      while (slots-- > 0) this.#busy--;
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let pass: Pass | undefined;
      try {
        // Runs to take over appear only as leases end: looking for them on
        // every pass (one per burst of ended runs) would be a write each.
        // Real time, not the injectable clock: a clock that stands still or
        // steps back must not stop takeovers.
        const now = performance.now();
        const takeOver = now >= this.#takeOverAt;
        if (takeOver) this.#takeOverAt = now + TAKE_OVER_EVERY_MS;
        pass = await this.#pass(takeOver);
      } catch (err) {
        this.#log.error({ err }, 'dispatch pass failed; retrying');
      }
      if (this.#stopping) break;
      // More due work than room: go on as soon as a slot frees (release wakes us).
      const waitMs = pass?.full && this.#busy < this.#deps.runs.concurrency ? 0 : await this.#untilNextDue(pass);
      if (waitMs > 0) await this.#sleep(waitMs);
      else await sleep(0);
    }
  }

  /** How long to sleep: until the earliest due time or lease end, at most maxIdleMs. */
  async #untilNextDue(pass: Pass | undefined): Promise<number> {
    const { db, clock } = this.#deps;
    if (this.#busy >= this.#deps.runs.concurrency) return this.#maxIdleMs; // a release wakes us
    try {
      const [task, run] = await Promise.all([
        db.read.task.findFirst({
          where: { status: 'ACTIVE', nextRunAt: { not: null } },
          orderBy: { nextRunAt: 'asc' },
          select: { nextRunAt: true },
        }),
        db.read.taskRun.findFirst({
          where: { outcome: 'RUNNING', leaseUntil: { not: null } },
          orderBy: { leaseUntil: 'asc' },
          select: { leaseUntil: true },
        }),
      ]);
      const next = Math.min(task?.nextRunAt?.getTime() ?? Infinity, run?.leaseUntil?.getTime() ?? Infinity);
      const wait = next - clock.now();
      // Due already but the pass did nothing with it (an account was busy): retry soon, not at once.
      if (wait <= 0) return pass && (pass.handled > 0 || pass.resumed > 0) ? 0 : BUSY_RETRY_MS;
      return Math.min(this.#maxIdleMs, wait);
    } catch (err) {
      this.#log.error({ err }, 'reading the next due time failed');
      return this.#maxIdleMs;
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#freed || this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** Records a run's end with the others that end in the same turn (one transaction). */
  #end(run: TaskRun, end: RunEnd): Promise<Task | null> {
    return new Promise((done, fail) => {
      if (this.#ending.push({ run, end, done, fail }) > 1) return;
      setImmediate(() => {
        const group = this.#ending;
        this.#ending = [];
        endRuns(this.#deps, group).then(
          (tasks) => {
            for (const [i, g] of group.entries()) g.done(tasks[i] ?? null);
          },
          // One bad end must not fail the others with it: each on its own.
          () => {
            for (const g of group) endRuns(this.#deps, [g]).then(([task]) => g.done(task ?? null), g.fail);
          },
        );
      });
    });
  }

  /**
   * A write that must not be lost to a transient failure (a connection blip,
   * a lock held a moment too long): retried a few times before giving up to
   * the lease, which hands the run over.
   */
  async #persist<T>(what: string, runId: string, write: () => Promise<T>): Promise<T | null> {
    for (let i = 0; ; i++) {
      try {
        return await write();
      } catch (err) {
        if (i === PERSIST_RETRY_MS.length) {
          this.#log.error({ err, runId }, `${what} failed; the run's lease will hand it over`);
          return null;
        }
        this.#log.warn({ err, runId }, `${what} failed; retrying`);
        await sleep(PERSIST_RETRY_MS[i]);
      }
    }
  }

  /** The attempts of one run held by this dispatcher, until it ends or is handed over. */
  async #attempts({ run, task }: RunToExecute, slot: { held: boolean }): Promise<void> {
    const deps = this.#deps;
    const { clock, runs: settings } = deps;
    const handOver = (r: TaskRun, attempts: number) =>
      this.#persist('handing a run over', r.id, () => renewLease(deps, r, clock.now(), attempts));
    // Claimed by a pass that ended after stop(): give it back uncalled.
    if (this.#stopping) {
      await handOver(run, run.attempts - 1);
      return;
    }
    let held: TaskRun = run;
    let spentMs = run.durationMs ?? 0;
    for (;;) {
      // Signed with real time, not the injectable clock: the executor checks it against its own.
      const attempt = await callExecutor(settings, held, task, Date.now());
      spentMs += attempt.ms;
      if (attempt.ok || held.attempts >= settings.maxAttempts) {
        const outcome = attempt.ok ? 'SUCCEEDED' : attempt.timedOut ? 'TIMED_OUT' : 'FAILED';
        const ended = held;
        const task = await this.#persist('recording a run', held.id, () =>
          this.#end(ended, {
            outcome,
            finishedAt: new Date(clock.now()),
            durationMs: spentMs,
            attempts: ended.attempts,
            httpStatus: attempt.httpStatus,
            error: attempt.error,
          }),
        );
        if (!task) this.#log.warn({ runId: held.id }, 'run was not recorded here (taken over, or the writes failed)');
        else if (outcome !== 'SUCCEEDED') {
          this.#log.info({ runId: held.id, taskId: held.taskId, outcome, error: attempt.error }, 'run failed');
          if (task.status === 'ERROR' && task.failureStreak === settings.failuresToError) {
            this.#log.warn({ taskId: task.id, failures: task.failureStreak }, 'task turned ERROR after failed runs');
          }
        }
        return;
      }
      // Attempts left. Stopping: hand the run to any dispatcher now.
      if (this.#stopping) {
        await handOver(held, held.attempts);
        return;
      }
      const delay = retryDelayMs(settings, held.attempts, this.#random);
      const current = held;
      const waiting = await this.#persist('renewing a lease', held.id, () =>
        renewLease(deps, current, clock.now() + delay + leaseMs(settings), current.attempts),
      );
      if (!waiting) return;
      // Waiting is not executing: the slot serves other runs meanwhile.
      slot.held = false;
      this.release();
      await sleep(delay, undefined, { signal: this.#stop.signal }).catch(() => {});
      // No room now (or stopping): any dispatcher with room takes the next attempt.
      if (this.#stopping || !this.reserve()) {
        await handOver(waiting, waiting.attempts);
        return;
      }
      slot.held = true;
      const next = await this.#persist('renewing a lease', waiting.id, () =>
        renewLease(deps, waiting, clock.now() + leaseMs(settings), waiting.attempts + 1),
      );
      if (!next) return;
      held = next;
    }
  }
}
