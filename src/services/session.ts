// One Session per request: who is calling, and the loaders that batch and
// cache that request's reads. Nothing here knows about GraphQL or HTTP.
import DataLoader from 'dataloader';
import type { Limits, RunSettings } from '../config.js';
import type { Database } from '../db/client.js';
import type { Account, Task, TaskRun } from '../db/models.js';
import { hashApiKey } from './api-keys.js';
import type { Clock } from './clock.js';
import { UnauthorizedError } from './errors.js';
import type { Subscriptions } from './events/subscriptions.js';
import type { EventBus } from './events/task-events.js';
import { MAX_API_KEY_LENGTH } from './input-limits.js';
import type { RateLimiter, RateLimitState } from './rate-limit.js';
import type { Runner } from './runs/runner.js';

/** What every service needs; built once per process. */
export interface Deps {
  db: Database;
  clock: Clock;
  rateLimiter: RateLimiter;
  limits: Limits;
  /** Running schedules: the executor and the dispatcher's rules. */
  runs: RunSettings;
  /** This instance's dispatcher, when it executes runs (runTask hands it its run). */
  runner?: Runner;
  /** Where changes are announced to subscriptions (this instance's memory, or Redis for every instance). */
  events: EventBus;
  /** This instance's open subscriptions. */
  subscriptions: Subscriptions;
  /** Ids of new tasks (default: random); tests that compare two runs make them predictable. */
  newTaskId?: () => string;
}

export interface Caller {
  /** The account as read when the request was authenticated. */
  account: Account;
}

/** What a request learnt of its account's rate limit (for the RateLimit-* headers). */
export interface RateLimitNotes {
  /** The account's state after this request's operations (the most used seen). */
  state: RateLimitState | undefined;
  /** The longest `retryAfterSeconds` of this request's refused operations; 0 if none. */
  retryAfterSeconds: number;
}

export class Session {
  #caller: Promise<Caller> | undefined;
  #tasks: DataLoader<string, Task | null> | undefined;
  #runs: DataLoader<string, TaskRun | null> | undefined;
  readonly rateLimit: RateLimitNotes = { state: undefined, retryAfterSeconds: 0 };

  constructor(
    readonly deps: Deps,
    private readonly apiKey: string | undefined,
  ) {}

  /** The authenticated caller, resolved once per request. */
  caller(): Promise<Caller> {
    this.#caller ??= this.#authenticate();
    return this.#caller;
  }

  /** Authenticates again, reading the key and account afresh (a long-lived subscription). */
  reauthenticate(): Promise<Caller> {
    const caller = this.#authenticate();
    // Only a success replaces the caller: a failed check ends the stream anyway.
    caller.then(
      () => {
        this.#caller = caller;
      },
      () => {},
    );
    return caller;
  }

  /**
   * Drops what the loaders cached: a subscription's session lives for many
   * events, and each must read the tasks and runs as they are now.
   */
  forgetReads(): void {
    this.#tasks?.clearAll();
    this.#runs?.clearAll();
  }

  /** Whether the request carried a key at all (authenticated or not). */
  get hasKey(): boolean {
    return this.apiKey !== undefined;
  }

  noteRateLimit(state: RateLimitState): void {
    const known = this.rateLimit.state;
    if (!known || state.used >= known.used) this.rateLimit.state = state;
  }

  noteRetryAfter(seconds: number): void {
    this.rateLimit.retryAfterSeconds = Math.max(this.rateLimit.retryAfterSeconds, seconds);
  }

  /**
   * The caller's tasks by id, batched: every lookup in one tick becomes one
   * query, scoped to the caller's account so another account's id reads as
   * missing. Only valid after `caller()` resolved.
   */
  tasks(accountId: string): DataLoader<string, Task | null> {
    this.#tasks ??= new DataLoader(
      async (ids) => {
        const rows = await this.deps.db.hot.tasksByIds(accountId, ids);
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { maxBatchSize: 1000 },
    );
    return this.#tasks;
  }

  /** Runs by id, batched (a page of tasks' last runs is one query). Ids come from the caller's own tasks. */
  runs(): DataLoader<string, TaskRun | null> {
    this.#runs ??= new DataLoader(
      async (ids) => {
        const rows = await this.deps.db.read.taskRun.findMany({ where: { id: { in: [...ids] } } });
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { maxBatchSize: 1000 },
    );
    return this.#runs;
  }

  async #authenticate(): Promise<Caller> {
    const key = this.apiKey;
    if (!key) throw new UnauthorizedError();
    if (key.length > MAX_API_KEY_LENGTH) throw new UnauthorizedError('Unknown or revoked API key.');
    // One statement: the account that holds this key, unrevoked.
    const account = await this.deps.db.hot.accountByKeyHash(hashApiKey(key));
    if (!account) throw new UnauthorizedError('Unknown or revoked API key.');
    return { account };
  }
}
