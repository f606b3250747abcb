// One writing transaction at a time across a process's SQLite connections
// (Prisma's writer and the hot writes): SQLite has a single writer, and a
// synchronous driver waiting on SQLite's file lock would block the event loop.
//
// A promise chain, not async-mutex: on every write it costs ~0.25 µs a turn
// against ~3-4 µs for async-mutex's Mutex and ~9-14 µs with its withTimeout
// (a timer per waiter), measured with 20 concurrent writers. No wait timeout
// is needed: every holder ends — Prisma's transactions by their own timeout,
// hot-write transactions by running only their prepared statements, and a
// write waiting for another process's lock at its deadline (sqlite-busy.ts),
// while the writes queued behind it wait here.
const ignore = () => {};

export class WriteGate {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` once every earlier `fn` has settled; its result, or its error. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.#tail.then(fn);
    this.#tail = turn.then(ignore, ignore);
    return turn;
  }
}
