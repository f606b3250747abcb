// The task-event bus contract, held by both buses: MemoryEventBus (one
// process) and RedisEventBus (every instance, over Redis pub/sub). An event
// reaches its own account's listeners only, in publish order, with its dates
// as Dates; subscribing resolves once the bus listens; unsubscribing and
// subscribing again at once leaves one live listener; close() is prompt and
// first delivers what was published before it. The Redis bus further: one
// channel subscription per account however many listeners, two buses (two
// processes) hear each other, a subscribe waits for Redis even over a slow
// link, channels come back after Redis does (and only those still wanted), a
// message whose body names another account than its channel is dropped, and
// an unreachable Redis fails a subscribe in time instead of hanging (or
// crashing) anything.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Task, TaskRun } from '../src/db/models.js';
import { MemoryEventBus } from '../src/services/events/memory-bus.js';
import { RedisEventBus } from '../src/services/events/redis-bus.js';
import { type EventBus, type TaskEvent, taskIdOf } from '../src/services/events/task-events.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { until } from './helpers/until.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The bus's channel of an account (src/services/events/redis-bus.ts). */
const channel = (accountId: string) => `tsg:task-events:${accountId}`;
/** A port nothing listens on. */
const DEAD_REDIS = 'redis://127.0.0.1:1';

/** Every account id is fresh: Redis is shared with the other suites running now. */
const account = () => `acct-${randomUUID()}`;

/** A plain connection of the test's own: raw publishes and PUBSUB NUMSUB. */
const admin = new Redis(REDIS_URL, { lazyConnect: true });
afterAll(() => admin.quit());

/** Connections (across every client of this Redis) subscribed to the account's channel. */
async function channelSubscribers(accountId: string): Promise<number> {
  const [, count] = (await admin.pubsub('NUMSUB', channel(accountId))) as [string, number];
  return Number(count);
}

/**
 * A link to Redis for one bus (a TCP proxy, cut after the file): with latency
 * (each chunk forwarded `latencyMs` later, in order), or one a test cuts and
 * restores, as a Redis that goes away and comes back (the real Redis is shared
 * with other suites).
 */
const links: TcpProxy[] = [];
async function link(latencyMs = 0): Promise<TcpProxy> {
  const l = new TcpProxy(REDIS_URL, latencyMs);
  await l.up();
  links.push(l);
  return l;
}
afterAll(() => Promise.all(links.map((l) => l.cut())));

const at = (iso: string) => new Date(iso);
/** Looks like a date, is not a date field: must stay a string. */
const DATE_LIKE = '2026-01-01T00:00:00.000Z';

function task(accountId: string, id: string, overrides: Partial<Task> = {}): Task {
  return {
    id,
    accountId,
    name: DATE_LIKE,
    api: 'SCREENSHOT',
    query: `url=${DATE_LIKE}`,
    frequency: 'EVERY_MINUTE',
    crontab: '* * * * *',
    timezone: 'Etc/UTC',
    status: 'ACTIVE',
    inProgress: true,
    createdAt: at('2026-03-04T05:06:07.089Z'),
    lastRunAt: at('2026-03-05T00:00:00.001Z'),
    runs: 3,
    version: 2,
    nextRunAt: at('2026-03-05T00:01:00.000Z'),
    failureStreak: 0,
    lastRunId: 'run-1',
    ...overrides,
  };
}

function run(accountId: string, taskId: string, overrides: Partial<TaskRun> = {}): TaskRun {
  return {
    id: 'run-1',
    taskId,
    accountId,
    trigger: 'SCHEDULE',
    api: 'SCREENSHOT',
    query: 'url=x',
    scheduledFor: at('2026-03-05T00:00:00.000Z'),
    startedAt: at('2026-03-05T00:00:00.001Z'),
    finishedAt: at('2026-03-05T00:00:01.250Z'),
    durationMs: 1249,
    outcome: 'SUCCEEDED',
    skipReason: null,
    attempts: 1,
    httpStatus: 200,
    error: DATE_LIKE,
    leaseUntil: at('2026-03-05T00:00:10.001Z'),
    ...overrides,
  };
}

const deleted = (accountId: string, taskId: string): TaskEvent => ({ kind: 'TaskDeleted', accountId, taskId });

/** A listener that records what it hears. */
function recorder() {
  const heard: TaskEvent[] = [];
  const listener = (e: TaskEvent) => {
    heard.push(e);
  };
  return { heard, listener };
}

interface Kind {
  name: string;
  make(onError: (err: unknown) => void): EventBus;
  /** Redis only: connections subscribed to the account's channel. */
  subscribers?: (accountId: string) => Promise<number>;
}

const KINDS: Kind[] = [
  { name: 'MemoryEventBus', make: (onError) => new MemoryEventBus(onError) },
  {
    name: 'RedisEventBus',
    make: (onError) => new RedisEventBus(REDIS_URL, { onError }),
    subscribers: channelSubscribers,
  },
];

/** Buses opened by a test, closed after it whatever happened. */
const open: EventBus[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

describe.each(KINDS)('$name', (kind) => {
  const errors: unknown[] = [];
  function bus(): EventBus {
    const b = kind.make((err) => errors.push(err));
    open.push(b);
    return b;
  }
  afterEach(() => {
    // A failure a bus reported (a lost publish, a listener that threw unexpectedly).
    expect(errors.splice(0)).toEqual([]);
  });

  it("delivers an event to that account's listeners only, every one of them, in publish order", async () => {
    const b = bus();
    const [a, other, nobody] = [account(), account(), account()];
    const a1 = recorder();
    const a2 = recorder();
    const o1 = recorder();
    await Promise.all([b.subscribe(a, a1.listener), b.subscribe(a, a2.listener), b.subscribe(other, o1.listener)]);
    expect(b.listenerCount(a)).toBe(2);
    expect(b.listenerCount(other)).toBe(1);
    expect(b.listenerCount(nobody)).toBe(0);

    const sent: TaskEvent[] = [];
    for (let i = 0; i < 60; i++) {
      const to = [a, other, nobody][i % 3]!;
      sent.push(
        i % 2 === 0
          ? { kind: 'TaskChanged', accountId: to, change: 'UPDATED', task: task(to, `t-${i}`, { version: i }) }
          : deleted(to, `t-${i}`),
      );
    }
    // Some in one call, some one by one.
    b.publish(sent.slice(0, 30));
    for (const e of sent.slice(30)) b.publish([e]);
    // Last of all, one more event of each account: once each arrived, whatever came before has too.
    b.publish([deleted(a, 'last'), deleted(other, 'last')]);

    await until('the last events', () => a1.heard.length >= 21 && a2.heard.length >= 21 && o1.heard.length >= 21);
    const of = (acct: string) => [...sent.filter((e) => e.accountId === acct), deleted(acct, 'last')];
    expect(a1.heard).toEqual(of(a));
    expect(a2.heard).toEqual(of(a));
    expect(o1.heard).toEqual(of(other));
  });

  it('gives dates back as Dates, by field name: a string that merely looks like a date stays a string', async () => {
    const b = bus();
    const a = account();
    const { heard, listener } = recorder();
    await b.subscribe(a, listener);
    const running = run(a, 't-1', {
      outcome: 'RUNNING',
      finishedAt: null,
      durationMs: null,
      httpStatus: null,
      error: null,
      attempts: 0,
    });
    const sent: TaskEvent[] = [
      { kind: 'TaskChanged', accountId: a, change: 'CREATED', task: task(a, 't-1') },
      // Nullable dates stay null.
      {
        kind: 'TaskChanged',
        accountId: a,
        change: 'PAUSED',
        task: task(a, 't-1', { status: 'PAUSED', nextRunAt: null, lastRunAt: null, lastRunId: null }),
      },
      { kind: 'RunStarted', accountId: a, run: running, task: task(a, 't-1') },
      { kind: 'RunFinished', accountId: a, run: run(a, 't-1'), task: task(a, 't-1', { inProgress: false }) },
      {
        kind: 'RunFinished',
        accountId: a,
        run: run(a, 't-1', {
          outcome: 'SKIPPED',
          skipReason: 'OVERLAP',
          startedAt: null,
          finishedAt: null,
          leaseUntil: null,
        }),
        task: task(a, 't-1'),
      },
      deleted(a, DATE_LIKE),
    ];
    b.publish(sent);
    await until('every event', () => heard.length >= sent.length);
    // toEqual tells a Date from its ISO string.
    expect(heard).toEqual(sent);

    const [created, , started, finished, , gone] = heard as [
      Extract<TaskEvent, { kind: 'TaskChanged' }>,
      unknown,
      Extract<TaskEvent, { kind: 'RunStarted' }>,
      Extract<TaskEvent, { kind: 'RunFinished' }>,
      unknown,
      Extract<TaskEvent, { kind: 'TaskDeleted' }>,
    ];
    for (const d of [created.task.createdAt, created.task.nextRunAt, created.task.lastRunAt]) {
      expect(d).toBeInstanceOf(Date);
    }
    expect(created.task.createdAt.toISOString()).toBe('2026-03-04T05:06:07.089Z');
    for (const d of [started.run.scheduledFor, started.run.startedAt, started.run.leaseUntil, started.task.createdAt]) {
      expect(d).toBeInstanceOf(Date);
    }
    for (const d of [finished.run.finishedAt, finished.run.leaseUntil, finished.run.scheduledFor]) {
      expect(d).toBeInstanceOf(Date);
    }
    expect(typeof created.task.name).toBe('string');
    expect(created.task.name).toBe(DATE_LIKE);
    expect(created.task.query).toBe(`url=${DATE_LIKE}`);
    expect(typeof finished.run.error).toBe('string');
    expect(typeof gone.taskId).toBe('string');
  });

  it('a listener that throws does not keep the others from the event (the failure is reported)', async () => {
    const reported: unknown[] = [];
    const b = kind.make((err) => reported.push(err));
    open.push(b);
    const a = account();
    const before = recorder();
    const after = recorder();
    await b.subscribe(a, before.listener);
    await b.subscribe(a, () => {
      throw new Error('listener broke');
    });
    await b.subscribe(a, after.listener);
    b.publish([deleted(a, 'x'), deleted(a, 'y')]);
    await until('both events', () => after.heard.length >= 2);
    expect(before.heard).toEqual([deleted(a, 'x'), deleted(a, 'y')]);
    expect(after.heard).toEqual([deleted(a, 'x'), deleted(a, 'y')]);
    expect(reported.map((e) => (e as Error).message)).toEqual(['listener broke', 'listener broke']);
  });

  it('unsubscribing and subscribing the same account again at once leaves exactly one live subscription', async () => {
    // A bus of its own: the account's channel is the only one its connection
    // holds, so the UNSUBSCRIBE takes the connection out of subscriber mode.
    const b = bus();
    const a = account();
    const first = recorder();
    const second = recorder();
    const stopFirst = await b.subscribe(a, first.listener);
    if (kind.subscribers) expect(await kind.subscribers(a)).toBe(1);
    // No await between the two.
    stopFirst();
    const subscribing = b.subscribe(a, second.listener);
    const stopSecond = await subscribing;
    expect(b.listenerCount(a)).toBe(1);

    b.publish([deleted(a, 'one')]);
    await until('the event', () => second.heard.length >= 1);
    if (kind.subscribers) {
      // The UNSUBSCRIBE did not win over the SUBSCRIBE sent after it.
      expect(await kind.subscribers(a)).toBe(1);
    }
    b.publish([deleted(a, 'two')]);
    await until('the second event', () => second.heard.length >= 2);
    expect(second.heard).toEqual([deleted(a, 'one'), deleted(a, 'two')]);
    expect(first.heard).toEqual([]);

    // The same, many times over, with the previous subscribe still unconfirmed.
    const last = recorder();
    let stop = stopSecond;
    for (let i = 0; i < 20; i++) {
      stop();
      const pending = b.subscribe(a, i === 19 ? last.listener : () => {});
      stop = await pending;
    }
    expect(b.listenerCount(a)).toBe(1);
    b.publish([deleted(a, 'three')]);
    await until('the event after 20 cycles', () => last.heard.length >= 1);
    expect(last.heard).toEqual([deleted(a, 'three')]);
    if (kind.subscribers) expect(await kind.subscribers(a)).toBe(1);

    // Unsubscribed: nothing more, and (Redis) the channel is released.
    stop();
    expect(b.listenerCount(a)).toBe(0);
    if (kind.subscribers) {
      const subscribers = kind.subscribers;
      await until('the channel to be released', async () => (await subscribers(a)) === 0);
    }
    b.publish([deleted(a, 'four')]);
    // A later event of another account shows the earlier one was not delivered.
    const other = account();
    const witness = recorder();
    await b.subscribe(other, witness.listener);
    b.publish([deleted(other, 'witness')]);
    await until('the witness event', () => witness.heard.length >= 1);
    expect(last.heard).toEqual([deleted(a, 'three')]);
    expect(second.heard).toHaveLength(2);
  });

  it('many listeners of one account share one subscription, each hearing every event once', async () => {
    const b = bus();
    const a = account();
    const listeners = Array.from({ length: 50 }, recorder);
    // Concurrently: the first one's SUBSCRIBE is unconfirmed while the others join.
    const stops = await Promise.all(listeners.map((l) => b.subscribe(a, l.listener)));
    expect(b.listenerCount(a)).toBe(50);
    if (kind.subscribers) expect(await kind.subscribers(a)).toBe(1);
    b.publish([deleted(a, 'x')]);
    await until('every listener', () => listeners.every((l) => l.heard.length >= 1));

    // All but the last leave: it still hears, and the channel is still held.
    for (const stop of stops.slice(0, -1)) stop();
    // Unsubscribing twice is harmless.
    stops[0]!();
    expect(b.listenerCount(a)).toBe(1);
    b.publish([deleted(a, 'y')]);
    await until('the last listener', () => listeners.at(-1)!.heard.length >= 2);
    if (kind.subscribers) expect(await kind.subscribers(a)).toBe(1);
    for (const l of listeners.slice(0, -1)) expect(l.heard).toEqual([deleted(a, 'x')]);
    expect(listeners.at(-1)!.heard).toEqual([deleted(a, 'x'), deleted(a, 'y')]);

    stops.at(-1)!();
    expect(b.listenerCount(a)).toBe(0);
    if (kind.subscribers) {
      const subscribers = kind.subscribers;
      await until('the channel to be released', async () => (await subscribers(a)) === 0);
    }
  });

  it('a listener subscribed after another of its account, while that first subscribe is unconfirmed, hears an event published as soon as it resolves', async () => {
    const b = bus();
    const [publisher] = kind.subscribers ? [bus()] : [b];
    for (let i = 0; i < 10; i++) {
      const a = account();
      const first = recorder();
      const second = recorder();
      const firstSubscribed = b.subscribe(a, first.listener);
      await b.subscribe(a, second.listener);
      // From another connection (Redis): nothing orders it after the SUBSCRIBE but the confirmation.
      publisher.publish([deleted(a, `e-${i}`)]);
      await until('the event', () => second.heard.length >= 1);
      await firstSubscribed;
      expect(second.heard).toEqual([deleted(a, `e-${i}`)]);
      expect(first.heard).toEqual([deleted(a, `e-${i}`)]);
    }
  });

  it('close() first delivers what was published just before it (a process stopping announces its last changes)', async () => {
    const a = account();
    const observer = bus();
    const { heard, listener } = recorder();
    await observer.subscribe(a, listener);
    // Redis: another bus (another process) publishes and closes; memory: the same bus.
    const failures: string[] = [];
    const publisher = kind.subscribers ? kind.make((err) => failures.push(String(err))) : observer;
    publisher.publish([deleted(a, 'warm-up')]);
    await until('the warm-up event', () => heard.length >= 1);
    publisher.publish([deleted(a, 'last 1'), deleted(a, 'last 2')]);
    await publisher.close();
    await until('the events published before close()', () => heard.length >= 3, 2_000).catch(() => {});
    expect(heard, `the publisher reported: ${failures.join('; ')}`).toEqual([
      deleted(a, 'warm-up'),
      deleted(a, 'last 1'),
      deleted(a, 'last 2'),
    ]);
    expect(failures).toEqual([]);
  });

  it('publish never throws, with or without listeners, and close() is prompt with listeners subscribed', async () => {
    const b = kind.make((err) => errors.push(err));
    const accounts = Array.from({ length: 20 }, account);
    const stops = await Promise.all(accounts.map((a) => b.subscribe(a, () => {})));
    expect(() => b.publish([deleted(account(), 'nobody listens')])).not.toThrow();
    expect(() => b.publish([])).not.toThrow();
    const started = Date.now();
    await b.close();
    const took = Date.now() - started;
    expect(took).toBeLessThan(1_000);
    // After close: still no throw, and unsubscribing is harmless.
    expect(() => b.publish([deleted(accounts[0]!, 'after close')])).not.toThrow();
    for (const stop of stops) stop();
    if (kind.subscribers) {
      const subscribers = kind.subscribers;
      await until('the channels to be released', async () =>
        (await Promise.all(accounts.map(subscribers))).every((n) => n === 0),
      );
    }
    // Errors a closed bus reports (a publish refused: the connection is closed) are not failures here.
    errors.length = 0;
  });
});

describe('RedisEventBus across processes', () => {
  const errors: unknown[] = [];
  function bus(): RedisEventBus {
    const b = new RedisEventBus(REDIS_URL, { onError: (err) => errors.push(err) });
    open.push(b);
    return b;
  }
  afterEach(() => {
    errors.length = 0;
  });

  it("two buses on one Redis (two instances) hear each other's events, and each holds its own subscription", async () => {
    const [one, two] = [bus(), bus()];
    const [a, other] = [account(), account()];
    const onOne = recorder();
    const onTwo = recorder();
    const otherOnTwo = recorder();
    await one.subscribe(a, onOne.listener);
    await two.subscribe(a, onTwo.listener);
    await two.subscribe(other, otherOnTwo.listener);
    expect(await channelSubscribers(a)).toBe(2);
    expect(await channelSubscribers(other)).toBe(1);

    one.publish([deleted(a, 'from one'), deleted(other, 'from one')]);
    two.publish([deleted(a, 'from two')]);
    await until('both events on both', () => onOne.heard.length >= 2 && onTwo.heard.length >= 2);
    await until("the other account's event", () => otherOnTwo.heard.length >= 1);
    // Each publisher's events in its order; the two publishers interleave as they may.
    for (const heard of [onOne.heard, onTwo.heard]) {
      expect([...heard].sort((x, y) => taskIdOf(x).localeCompare(taskIdOf(y)))).toEqual([
        deleted(a, 'from one'),
        deleted(a, 'from two'),
      ]);
    }
    expect(otherOnTwo.heard).toEqual([deleted(other, 'from one')]);
    expect(errors).toEqual([]);
  });

  it('a subscribe resolves only once Redis listens: an event published from another instance right after is heard', async () => {
    const [subscriber, publisher] = [bus(), bus()];
    for (let i = 0; i < 20; i++) {
      const a = account();
      const { heard, listener } = recorder();
      await subscriber.subscribe(a, listener);
      publisher.publish([deleted(a, `e-${i}`)]);
      await until(`event ${i}`, () => heard.length >= 1);
      expect(heard).toEqual([deleted(a, `e-${i}`)]);
    }
    expect(errors).toEqual([]);
  });

  it('over a slow link (100 ms each way), a subscribe still resolves only once Redis listens, for the first listener of an account and for one joining it', async () => {
    const slow = await link(100);
    const subscriber = new RedisEventBus(slow.url, { onError: (err) => errors.push(err) });
    open.push(subscriber);
    // Direct: a publish right after a subscribe resolved overtakes an unconfirmed SUBSCRIBE.
    const publisher = bus();
    for (let i = 0; i < 5; i++) {
      const a = account();
      const first = recorder();
      const second = recorder();
      const t0 = Date.now();
      const firstSubscribed = subscriber.subscribe(a, first.listener);
      // Joins while the account's SUBSCRIBE is on its way.
      await subscriber.subscribe(a, second.listener);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(150); // a round trip: it waited for Redis
      publisher.publish([deleted(a, `joined-${i}`)]);
      await firstSubscribed;
      publisher.publish([deleted(a, `first-${i}`)]);
      await until(`events ${i}`, () => first.heard.length >= 2 && second.heard.length >= 2);
      expect(first.heard).toEqual([deleted(a, `joined-${i}`), deleted(a, `first-${i}`)]);
      expect(second.heard).toEqual([deleted(a, `joined-${i}`), deleted(a, `first-${i}`)]);
    }
    expect(errors).toEqual([]);
  });

  it('Redis away and back: a listener that stayed hears again, a channel whose listeners left meanwhile is not held, a subscribe made meanwhile resolves once Redis is back', async () => {
    const flaky = await link();
    const b = new RedisEventBus(flaky.url, { onError: (err) => errors.push(err) });
    open.push(b);
    const publisher = bus();
    const [stays, leaves, joins] = [account(), account(), account()];
    const stayed = recorder();
    const left = recorder();
    const joined = recorder();
    await b.subscribe(stays, stayed.listener);
    const leave = await b.subscribe(leaves, left.listener);
    expect(await channelSubscribers(stays)).toBe(1);
    expect(await channelSubscribers(leaves)).toBe(1);

    await flaky.cut();
    await until('the bus to see Redis gone', async () => (await channelSubscribers(stays)) === 0);
    leave();
    const joining = b.subscribe(joins, joined.listener);
    publisher.publish([deleted(stays, 'while away')]); // lost: at most once
    await flaky.up();
    await joining;

    await until('the channels to be held again', async () => (await channelSubscribers(stays)) === 1);
    expect(await channelSubscribers(joins)).toBe(1);
    publisher.publish([deleted(stays, 'back'), deleted(leaves, 'back'), deleted(joins, 'back')]);
    await until('the events after Redis came back', () => stayed.heard.length >= 1 && joined.heard.length >= 1);
    expect(stayed.heard).toEqual([deleted(stays, 'back')]);
    expect(joined.heard).toEqual([deleted(joins, 'back')]);
    expect(left.heard).toEqual([]);
    expect(await channelSubscribers(leaves)).toBe(0);
    expect(b.listenerCount(leaves)).toBe(0);
  }, 20_000);

  it('drops a message whose body names another account than its channel, and survives one that is not JSON', async () => {
    const b = bus();
    const [a, other] = [account(), account()];
    const onA = recorder();
    const onOther = recorder();
    await b.subscribe(a, onA.listener);
    await b.subscribe(other, onOther.listener);
    // On a's channel, claiming to be other's: neither hears it.
    await admin.publish(channel(a), JSON.stringify(deleted(other, 'forged')));
    await admin.publish(channel(a), JSON.stringify({ kind: 'TaskDeleted', taskId: 'no account' }));
    await admin.publish(channel(a), 'not json {');
    // Then a real one: once heard, the messages before it were handled.
    await admin.publish(channel(a), JSON.stringify(deleted(a, 'genuine')));
    await admin.publish(channel(other), JSON.stringify(deleted(other, 'genuine')));
    await until('the genuine events', () => onA.heard.length >= 1 && onOther.heard.length >= 1);
    expect(onA.heard).toEqual([deleted(a, 'genuine')]);
    expect(onOther.heard).toEqual([deleted(other, 'genuine')]);
    // The malformed one was reported, not thrown.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SyntaxError);
  });

  it('with Redis unreachable: publish does not throw, a subscribe fails within its 5 s timeout, nothing crashes', async () => {
    // Not closed after the test: see the next test (its close() never ends).
    const b = new RedisEventBus(DEAD_REDIS, { onError: (err) => errors.push(err) });
    expect(() => b.publish([deleted(account(), 'lost')])).not.toThrow();
    const started = Date.now();
    const a = account();
    await expect(b.subscribe(a, () => {})).rejects.toThrow(/did not confirm a SUBSCRIBE/);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(4_900);
    expect(took).toBeLessThan(6_500);
    // The failed subscribe left no listener behind.
    expect(b.listenerCount(a)).toBe(0);
    // The connection failures were reported to onError, not thrown.
    expect(errors.length).toBeGreaterThan(0);
    void b.close();
  }, 15_000);

  it('close() is prompt with Redis unreachable, after a subscribe failed', async () => {
    const b = new RedisEventBus(DEAD_REDIS, { onError: () => {} });
    await expect(b.subscribe(account(), () => {})).rejects.toThrow(/did not confirm a SUBSCRIBE/);
    const started = Date.now();
    const closed = await Promise.race([
      b.close().then(() => 'closed'),
      new Promise<string>((resolve) => setTimeout(() => resolve('still closing after 3 s'), 3_000).unref()),
    ]);
    expect(closed).toBe('closed');
    expect(Date.now() - started).toBeLessThan(1_000);
  }, 15_000);
});
