// The event bus of many instances: Redis pub/sub, one channel per account, so
// an instance receives only the events of accounts it has subscribers for,
// and a change on any instance (or in a scheduler process) reaches them all.
//
// Why not @graphql-yoga/redis-event-target: it leaves ioredis promises
// unhandled, so Redis going down crashes the process; and it revives values by
// shape. This bus catches every failure (events are then lost, never the
// process) and revives dates by their field names.
import { Redis } from 'ioredis';
import { Listeners } from './memory-bus.js';
import type { EventBus, TaskEvent, TaskEventListener } from './task-events.js';

const PREFIX = 'tsg:task-events:';

/** A subscribe that Redis has not confirmed by then fails (Redis down) instead of hanging. */
const SUBSCRIBE_TIMEOUT_MS = 5_000;

/** The fields of Task and TaskRun that hold a date (null or an ISO string on the wire). */
const DATE_FIELDS = new Set([
  'createdAt',
  'lastRunAt',
  'nextRunAt',
  'scheduledFor',
  'startedAt',
  'finishedAt',
  'leaseUntil',
]);

function revive(key: string, value: unknown): unknown {
  return typeof value === 'string' && DATE_FIELDS.has(key) ? new Date(value) : value;
}

export interface RedisEventBusOptions {
  /** A connection or a publish failed (logged; the events are lost). */
  onError: (err: unknown) => void;
}

export class RedisEventBus implements EventBus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #listeners = new Listeners();
  readonly #onError: (err: unknown) => void;

  readonly #onDeliveryError: (err: unknown) => void;

  constructor(url: string, { onError }: RedisEventBusOptions) {
    this.#onDeliveryError = onError;
    // One line per outage, not one per reconnect attempt.
    let down = false;
    this.#onError = (err) => {
      if (!down) onError(err);
      down = true;
    };
    const up = () => {
      down = false;
    };
    // Publishes are pipelined; one that cannot be sent soon is dropped (logged).
    // Lazy: a process that only publishes when something happens (the scheduler) connects then.
    this.#pub = new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: 1, lazyConnect: true });
    // No ready check on the subscriber: ioredis would race an early SUBSCRIBE
    // against its INFO (redis/ioredis#2037). Channels are re-subscribed after
    // a reconnect (ioredis's autoResubscribe). Lazy: it connects on the first subscribe.
    this.#sub = new Redis(url, {
      enableReadyCheck: false,
      disableClientInfo: true,
      maxRetriesPerRequest: null,
      lazyConnect: true,
    });
    for (const redis of [this.#pub, this.#sub]) {
      redis.on('error', this.#onError);
      redis.on('ready', up);
    }
    this.#sub.on('message', (channel: string, message: string) => this.#receive(channel, message));
    // Messages published while the connection was down are gone: every stream is told.
    this.#sub.on('close', () => this.#listeners.lost(this.#onError));
  }

  publish(events: readonly TaskEvent[]): void {
    for (const event of events) {
      this.#pub.publish(PREFIX + event.accountId, JSON.stringify(event)).catch(this.#onError);
    }
  }

  async subscribe(accountId: string, listener: TaskEventListener, onLost?: () => void): Promise<() => void> {
    const channel = PREFIX + accountId;
    // Commands on one connection run in the order sent, so a SUBSCRIBE sent
    // after the account's last UNSUBSCRIBE always wins.
    const listening = this.#listeners.add(accountId, listener, onLost)
      ? this.#sub.subscribe(channel)
      : this.#sub.ping();
    const unsubscribe = () => {
      if (this.#listeners.remove(accountId, listener)) this.#sub.unsubscribe(channel).catch(this.#onError);
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis did not confirm a SUBSCRIBE in time')), SUBSCRIBE_TIMEOUT_MS);
    });
    try {
      await Promise.race([listening, timeout]);
    } catch (e) {
      unsubscribe();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return unsubscribe;
  }

  listenerCount(accountId: string): number {
    return this.#listeners.count(accountId);
  }

  #receive(channel: string, message: string): void {
    if (!channel.startsWith(PREFIX)) return;
    let event: TaskEvent;
    try {
      event = JSON.parse(message, revive) as TaskEvent;
    } catch (err) {
      this.#onDeliveryError(err);
      return;
    }
    // Never trust a message's own account over the channel it came on.
    if (event.accountId !== channel.slice(PREFIX.length)) return;
    this.#listeners.deliver(event, this.#onDeliveryError);
  }

  async close(): Promise<void> {
    // Nothing to say goodbye for on the subscriber; and its offline queue
    // (commands waiting for Redis to come back) would hold a QUIT forever.
    this.#sub.disconnect();
    // Auto-pipelined PUBLISHes go out on the next turn: let them leave before
    // QUIT (the last runs' events of a stopping dispatcher), but never wait
    // long for a Redis that does not answer.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.#pub.status === 'wait') return this.#pub.disconnect(); // never connected
    const quit = this.#pub.quit().catch(() => {});
    const timer = setTimeout(() => this.#pub.disconnect(), 1_000);
    await quit;
    clearTimeout(timer);
  }
}
