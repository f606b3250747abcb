// Environment → validated configuration. The server refuses to start with a
// half-valid configuration and names each bad variable.
import { z } from 'zod';

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** `*` (any origin) or a comma-separated list of exact origins, e.g. `https://app.example.com`. */
const corsOrigins = z
  .string()
  .default('*')
  .transform((raw, ctx): '*' | string[] => {
    const list = raw
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    if (list.length === 0 || (list.length === 1 && list[0] === '*')) return '*';
    for (const origin of list) {
      let canonical: string | undefined;
      try {
        canonical = new URL(origin).origin;
      } catch {}
      if (canonical !== origin) {
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(origin)} is not an origin (scheme://host[:port], no path or trailing slash)`,
        });
        return z.NEVER;
      }
    }
    return list;
  });

// At least 1 ms once converted: a timeout or delay of 0 would mean no wait at all.
const seconds = (fallback: number, max: number) => z.coerce.number().min(0.001).max(max).default(fallback);

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z
    .string()
    .default('file:./data/app.db')
    .refine(
      (u) => /^file:.+/.test(u) || /^postgres(ql)?:\/\/.+/.test(u),
      'must be file:<path> (SQLite) or postgresql://user@host:port/database[?schema=name]',
    ),
  DATABASE_POOL_SIZE: int(10, 1, 1000),
  REDIS_URL: z
    .string()
    .refine((u) => /^rediss?:\/\/.+/.test(u), 'must be redis://host:port[/db] or rediss://…')
    .optional(),
  PORT: int(4000, 0, 65535),
  HOST: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CORS_ORIGINS: corsOrigins,
  RATE_LIMIT_ACCOUNT_MAX: int(60, 1, 1_000_000),
  RATE_LIMIT_SCHEDULE_MAX: int(10, 1, 1_000_000),
  RATE_LIMIT_WINDOW_SECONDS: int(60, 1, 86_400),
  SUBSCRIPTIONS_PER_ACCOUNT: int(20, 1, 100_000),
  // At most 60: a revoked key's streams end within a minute.
  SUBSCRIPTION_RECHECK_SECONDS: seconds(30, 60),
  EXECUTOR_URL: z
    .string()
    .refine((u) => {
      try {
        const url = new URL(u);
        const plain = !url.search && !url.hash && !url.username && !url.password;
        return (url.protocol === 'http:' || url.protocol === 'https:') && plain;
      } catch {
        return false;
      }
    }, 'must be an http(s) URL without credentials, query or fragment, e.g. https://executor.internal/run (the signature authenticates the caller)')
    .optional(),
  EXECUTOR_SECRET: z.string().min(16, 'must be at least 16 characters (it signs every executor request)').optional(),
  EXECUTOR_TIMEOUT_SECONDS: seconds(30, 3600),
  EXECUTOR_CONCURRENCY: int(50, 1, 10_000),
  RUN_RETRY_BASE_SECONDS: seconds(1, 3600),
  RUN_MAX_ATTEMPTS: int(3, 1, 20),
  RUN_CATCH_UP_SECONDS: int(300, 0, 7 * 86_400),
  RUN_FAILURES_TO_ERROR: int(5, 1, 1000),
  RUN_RETENTION_DAYS: int(30, 1, 3650),
  SCHEDULER: z.enum(['on', 'off']).default('on'),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  databaseUrl: string;
  /** PostgreSQL connections per instance. */
  databasePoolSize: number;
  /** Shared rate-limit state; without it the limiter is in memory (one instance only). */
  redisUrl: string | undefined;
  port: number;
  host: string | undefined;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  /** Browser origins allowed to call the API (never with credentials). */
  corsOrigins: '*' | string[];
  limits: Limits;
  runs: RunSettings;
}

/** Running schedules: the executor the runs call, and the dispatcher's rules. */
export interface RunSettings {
  /** Where runs go (GET {executorUrl}/{api}?{query}); null: this deployment runs nothing. */
  executorUrl: string | null;
  /** Signs every executor request (X-Signature). */
  executorSecret: string;
  /** This instance claims and executes due runs (SCHEDULER=on with an executor). */
  dispatch: boolean;
  timeoutMs: number;
  /** Runs in flight per instance. */
  concurrency: number;
  /** First delay between attempts of one run; doubles after each. */
  retryBaseMs: number;
  maxAttempts: number;
  /** A missed time at most this old still runs once after downtime. */
  catchUpMs: number;
  /** Consecutive FAILED or TIMED_OUT runs that turn a task ERROR. */
  failuresToError: number;
  retentionMs: number;
}

export interface Limits {
  /** Operations (root fields) per account in any rolling window. */
  accountMax: number;
  /** cancelSchedule calls per schedule id in any rolling window. */
  scheduleMax: number;
  windowSeconds: number;
  /** Subscriptions of one account open at once on one instance. */
  subscriptionsPerAccount: number;
  /** How often an open subscription checks its key and plan again. */
  subscriptionRecheckSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** A refused value as the error may show it: never a secret, nor a URL's password. */
function shown(name: string, value: string | undefined): string {
  if (value === undefined) return 'undefined';
  if (name === 'EXECUTOR_SECRET') return `(${value.length} characters, not shown)`;
  try {
    const url = new URL(value);
    if (url.password) {
      url.password = '***';
      return JSON.stringify(url.toString());
    }
  } catch {}
  return JSON.stringify(value);
}

/** Reads the configuration from an environment (process.env by default). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0]);
        return `${i.path.join('.')}=${shown(name, present[name])}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  if (e.EXECUTOR_URL && !e.EXECUTOR_SECRET) {
    throw new ConfigError([
      'EXECUTOR_SECRET: required with EXECUTOR_URL (the executor verifies every request by its signature)',
    ]);
  }
  return {
    env: e.NODE_ENV,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    corsOrigins: e.CORS_ORIGINS,
    limits: {
      accountMax: e.RATE_LIMIT_ACCOUNT_MAX,
      scheduleMax: e.RATE_LIMIT_SCHEDULE_MAX,
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      subscriptionsPerAccount: e.SUBSCRIPTIONS_PER_ACCOUNT,
      subscriptionRecheckSeconds: e.SUBSCRIPTION_RECHECK_SECONDS,
    },
    runs: {
      executorUrl: e.EXECUTOR_URL ?? null,
      executorSecret: e.EXECUTOR_SECRET ?? '',
      dispatch: e.EXECUTOR_URL !== undefined && e.SCHEDULER === 'on',
      timeoutMs: Math.round(e.EXECUTOR_TIMEOUT_SECONDS * 1000),
      concurrency: e.EXECUTOR_CONCURRENCY,
      retryBaseMs: Math.round(e.RUN_RETRY_BASE_SECONDS * 1000),
      maxAttempts: e.RUN_MAX_ATTEMPTS,
      catchUpMs: e.RUN_CATCH_UP_SECONDS * 1000,
      failuresToError: e.RUN_FAILURES_TO_ERROR,
      retentionMs: e.RUN_RETENTION_DAYS * 86_400_000,
    },
  };
}

/** For entry points: the configuration, or each bad variable named on stderr and exit 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    process.exit(1);
  }
}

/** The defaults with no executor: a deployment (or test) that runs nothing. */
export const NO_EXECUTOR: RunSettings = loadConfig({}).runs;
