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
}

export interface Limits {
  /** Operations (root fields) per account in any rolling window. */
  accountMax: number;
  /** cancelSchedule calls per schedule id in any rolling window. */
  scheduleMax: number;
  windowSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the configuration from an environment (process.env by default). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(present[String(i.path[0])])}: ${i.message}`),
    );
  }
  const e = parsed.data;
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
    },
  };
}
