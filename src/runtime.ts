// Wires a configuration into a running application: migrate, open the
// database, seed the demo account in development, build the app.
import { type App, createApp } from './app.js';
import type { Config } from './config.js';
import { type Database, openDatabase } from './db/client.js';
import { migrateDatabase } from './db/migrate.js';
import { Dispatcher } from './dispatcher/dispatcher.js';
import { createWebSocketDoor, type WebSocketDoor } from './http/websocket.js';
import type { Logger } from './logger.js';
import { type Clock, systemClock } from './services/clock.js';
import { seedDemo } from './services/demo.js';
import { MemoryEventBus } from './services/events/memory-bus.js';
import { RedisEventBus } from './services/events/redis-bus.js';
import { Subscriptions } from './services/events/subscriptions.js';
import type { EventBus } from './services/events/task-events.js';
import { MemoryRateLimiter, type RateLimiter } from './services/rate-limit.js';
import { RedisRateLimiter } from './services/rate-limit-redis.js';
import { abandonOrphanedRuns } from './services/runs/lease.js';
import type { Deps } from './services/session.js';
import { planMissingRuns } from './services/tasks/plan-missing.js';

export interface Runtime {
  app: App;
  /** GraphQL over WebSocket: the HTTP server hands it upgrade requests. */
  webSocket: WebSocketDoor;
  deps: Deps;
  /** The demo account's key when this start created it. */
  demo: { apiKey: string; accountId: string } | null;
  /** This instance's dispatcher, when it executes runs. */
  dispatcher: Dispatcher | undefined;
  /**
   * From now on /ready answers 503, so load balancers stop sending requests,
   * the dispatcher claims nothing more, and every subscription ends (its
   * client sees completion) and none is admitted.
   */
  drain(): void;
  /** Waits for runs in flight (bounded by the executor timeout), then closes everything. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  clock?: Clock;
  rateLimiter?: RateLimiter;
  db?: Database;
  events?: EventBus;
}

/** Says once at start what this instance does with schedules. */
function announceRuns({ runs }: Config, logger: Logger): void {
  if (!runs.executorUrl) {
    logger.info('no EXECUTOR_URL: this deployment runs no tasks (runTask answers SchedulerDisabled)');
  } else if (!runs.dispatch) {
    logger.info('SCHEDULER=off: this instance claims no runs (a dispatcher elsewhere runs them)');
  } else {
    const { origin, pathname } = new URL(runs.executorUrl);
    logger.info(
      { executor: origin + pathname, concurrency: runs.concurrency, timeoutMs: runs.timeoutMs },
      'dispatcher on: due tasks run here',
    );
  }
}

export async function createRuntime(config: Config, logger: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const applied = await migrateDatabase(config.databaseUrl);
  if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');
  const db = options.db ?? (await openDatabase(config.databaseUrl, { poolSize: config.databasePoolSize }));
  const events: EventBus =
    options.events ??
    (config.redisUrl
      ? new RedisEventBus(config.redisUrl, { onError: (err) => logger.warn({ err }, 'redis events: lost or delayed') })
      : new MemoryEventBus((err) => logger.error({ err }, 'event delivery failed')));
  const deps: Deps = {
    db,
    events,
    subscriptions: new Subscriptions(),
    clock: options.clock ?? systemClock,
    // Redis when configured: the limit then holds across every instance.
    rateLimiter:
      options.rateLimiter ??
      (config.redisUrl
        ? new RedisRateLimiter(config.redisUrl, { onError: (err) => logger.warn({ err }, 'redis connection error') })
        : new MemoryRateLimiter()),
    limits: config.limits,
    runs: config.runs,
  };
  const dispatcher = config.runs.dispatch
    ? new Dispatcher({ deps: { db, clock: deps.clock, runs: config.runs, events }, logger })
    : undefined;
  deps.runner = dispatcher;
  const planned = await planMissingRuns(db, deps.clock.now());
  if (planned > 0) logger.info({ tasks: planned }, 'planned the next run of tasks that had none');
  const demo = config.env === 'production' ? null : await seedDemo(db, deps.clock.now());
  announceRuns(config, logger);
  if (!config.runs.executorUrl) {
    const abandoned = await abandonOrphanedRuns({ db, clock: deps.clock, runs: config.runs, events });
    if (abandoned > 0) logger.warn({ runs: abandoned }, 'ended runs no executor will ever make (FAILED)');
  }
  dispatcher?.start();
  let draining = false;
  let stopped: Promise<void> | undefined;
  const app = createApp({
    deps,
    logger,
    graphiql: true,
    corsOrigins: config.corsOrigins,
    demoApiKey: config.env === 'production' ? undefined : demo?.apiKey,
    ready: async () => {
      if (draining) return false;
      await Promise.all([db.ping(), deps.rateLimiter.ping()]);
      return true;
    },
  });
  const webSocket = createWebSocketDoor(app, logger, { corsOrigins: config.corsOrigins });
  return {
    app,
    webSocket,
    deps,
    demo,
    dispatcher,
    drain: () => {
      draining = true;
      stopped ??= dispatcher?.stop();
      deps.subscriptions.endAll();
    },
    close: async () => {
      stopped ??= dispatcher?.stop();
      deps.subscriptions.endAll();
      await Promise.all([stopped, webSocket.close()]);
      await Promise.all([deps.rateLimiter.close(), events.close()]);
      await db.close();
    },
  };
}
