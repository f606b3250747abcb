// One subscriber's events: a queue the publisher pushes into and the transport
// pulls from. Not a Repeater: a Repeater starts (and so could clean up) only
// when first pulled, but a subscription is live before that (it was
// registered on the bus), and a client that leaves before its first event
// must still release it.

export class EventStream<T> implements AsyncIterableIterator<T> {
  readonly #queue: T[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  /** Ended: nothing more is queued; what is queued is still delivered. */
  #ended = false;
  #onEnd: (() => void) | undefined;

  /**
   * @param maxQueued events waiting for a slow consumer before the stream
   *   ends (the client resubscribes and refetches; silently dropping events
   *   would leave it showing a wrong state).
   * @param onEnd called once, when the stream ends for any reason.
   */
  constructor(
    private readonly maxQueued: number,
    onEnd: () => void,
  ) {
    this.#onEnd = onEnd;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Queues a value; false when the stream has ended. */
  push(value: T): boolean {
    if (this.#ended) return false;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ value, done: false });
    } else if (this.#queue.length >= this.maxQueued) {
      this.end();
      return false;
    } else {
      this.#queue.push(value);
    }
    return true;
  }

  /** Ends the stream after what is queued (a last value first, if given: even past maxQueued). */
  end(last?: T): void {
    if (this.#ended) return;
    if (last !== undefined) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting({ value: last, done: false });
      else this.#queue.push(last);
    }
    this.#ended = true;
    const onEnd = this.#onEnd;
    this.#onEnd = undefined;
    onEnd?.();
    if (this.#queue.length === 0) this.#finishWaiting();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift() as T, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  /** The consumer left: end now, dropping what is queued. */
  return(): Promise<IteratorResult<T>> {
    this.#queue.length = 0;
    this.end();
    this.#finishWaiting();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(): Promise<IteratorResult<T>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #finishWaiting(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.({ value: undefined, done: true });
  }
}
