// This instance's open subscriptions: the per-account cap, and ending them
// all when the instance stops.
/** What can be ended (an EventStream). */
interface Endable {
  return(): unknown;
}

export class Subscriptions {
  readonly #perAccount = new Map<string, number>();
  readonly #open = new Set<Endable>();
  #closing = false;

  /** The instance is stopping: no subscription is admitted. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Counts a new subscription of the account; false when it already has `max` here. */
  tryOpen(accountId: string, max: number): boolean {
    const open = this.#perAccount.get(accountId) ?? 0;
    if (open >= max) return false;
    this.#perAccount.set(accountId, open + 1);
    return true;
  }

  /** Tracks a counted subscription's stream until it ends. */
  track(stream: Endable): void {
    this.#open.add(stream);
  }

  /** A counted subscription ended. */
  closed(accountId: string, stream: Endable | undefined): void {
    if (stream) this.#open.delete(stream);
    const open = (this.#perAccount.get(accountId) ?? 1) - 1;
    if (open > 0) this.#perAccount.set(accountId, open);
    else this.#perAccount.delete(accountId);
  }

  /** Open subscriptions of an account on this instance. */
  count(accountId: string): number {
    return this.#perAccount.get(accountId) ?? 0;
  }

  /**
   * Shutdown: ends every stream now, dropping what is queued (clients see
   * completion at once, and refetch when they resubscribe elsewhere), and
   * opens no more.
   */
  endAll(): void {
    this.#closing = true;
    for (const stream of [...this.#open]) stream.return();
  }
}
