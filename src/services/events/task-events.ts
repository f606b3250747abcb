// What happened to an account's tasks, as the services announce it after a
// change has committed. Every door that changes a task (GraphQL, the
// dispatcher, a scheduler process) publishes through an EventBus; the
// subscriptions read from one. Nothing here knows about GraphQL or transports.
import type { Task, TaskRun } from '../../db/models.js';

/** How a TaskChanged event changed its task. */
export const TASK_CHANGES = ['CREATED', 'UPDATED', 'PAUSED', 'RESUMED', 'CANCELLED', 'ERRORED'] as const;
export type TaskChange = (typeof TASK_CHANGES)[number];

/**
 * One event. Each carries its account (the bus delivers it only to that
 * account's subscribers) and, but for a deletion, the rows as they are after
 * the change, so a subscriber needs no read to show it.
 */
export type TaskEvent =
  | { kind: 'TaskChanged'; accountId: string; change: TaskChange; task: Task }
  | { kind: 'TaskDeleted'; accountId: string; taskId: string }
  | { kind: 'RunStarted'; accountId: string; run: TaskRun; task: Task }
  | { kind: 'RunFinished'; accountId: string; run: TaskRun; task: Task };

export type TaskEventListener = (event: TaskEvent) => void;

/**
 * Delivers events to this account's subscribers, on this instance (in memory)
 * or on every instance (Redis). Delivery is at most once: an event published
 * while a subscriber is not listening (or while Redis is down) is not kept.
 */
export interface EventBus {
  /** Never throws, never waits: a change has happened whether or not anyone hears of it. */
  publish(events: readonly TaskEvent[]): void;
  /**
   * Calls `listener` with each of the account's events from the moment the
   * returned promise resolves (the bus is listening) until `unsubscribe`.
   * `onLost`: the bus may have missed events (its connection dropped); the
   * listener stays subscribed, but should tell its client to refetch.
   */
  subscribe(accountId: string, listener: TaskEventListener, onLost?: () => void): Promise<() => void>;
  /** The account's listeners on this instance (tests wait on it for a subscription to be live). */
  listenerCount(accountId: string): number;
  close(): Promise<void>;
}

/** The task an event is about. */
export function taskIdOf(event: TaskEvent): string {
  return event.kind === 'TaskDeleted' ? event.taskId : event.task.id;
}

/** A run's record became final: ended, or skipped without starting. */
export function runFinished(run: TaskRun, task: Task): Extract<TaskEvent, { kind: 'RunFinished' }> {
  return { kind: 'RunFinished', accountId: task.accountId, run, task };
}
