// The event bus of a single instance: events reach the subscribers of the
// process that published them. With several instances use the Redis bus.
import type { EventBus, TaskEvent, TaskEventListener } from './task-events.js';

/** Listeners per account (each with what to call if events may have been lost), shared by both buses. */
export class Listeners {
  readonly #byAccount = new Map<string, Map<TaskEventListener, (() => void) | undefined>>();

  /** Adds a listener; true when it is the account's first. */
  add(accountId: string, listener: TaskEventListener, onLost?: () => void): boolean {
    const set = this.#byAccount.get(accountId);
    if (set) {
      set.set(listener, onLost);
      return false;
    }
    this.#byAccount.set(accountId, new Map([[listener, onLost]]));
    return true;
  }

  /** Tells every listener that events may have been lost. */
  lost(onError: (err: unknown) => void): void {
    for (const set of [...this.#byAccount.values()]) {
      for (const onLost of [...set.values()]) {
        try {
          onLost?.();
        } catch (err) {
          onError(err);
        }
      }
    }
  }

  /** Removes a listener; true when it was the account's last. */
  remove(accountId: string, listener: TaskEventListener): boolean {
    const set = this.#byAccount.get(accountId);
    if (!set?.delete(listener) || set.size > 0) return false;
    this.#byAccount.delete(accountId);
    return true;
  }

  count(accountId: string): number {
    return this.#byAccount.get(accountId)?.size ?? 0;
  }

  /** Hands an event to its account's listeners; one listener's failure does not stop the others. */
  deliver(event: TaskEvent, onError: (err: unknown) => void): void {
    const set = this.#byAccount.get(event.accountId);
    if (!set) return;
    for (const listener of [...set.keys()]) {
      try {
        listener(event);
      } catch (err) {
        onError(err);
      }
    }
  }
}

export class MemoryEventBus implements EventBus {
  readonly #listeners = new Listeners();

  constructor(private readonly onError: (err: unknown) => void = () => {}) {}

  publish(events: readonly TaskEvent[]): void {
    for (const event of events) this.#listeners.deliver(event, this.onError);
  }

  async subscribe(accountId: string, listener: TaskEventListener): Promise<() => void> {
    // In one process nothing is lost: no onLost.
    this.#listeners.add(accountId, listener);
    return () => void this.#listeners.remove(accountId, listener);
  }

  listenerCount(accountId: string): number {
    return this.#listeners.count(accountId);
  }

  async close(): Promise<void> {}
}
