// A small reader of a `text/event-stream` body (GraphQL over SSE, as yoga
// sends it): `event:`/`data:` blocks separated by a blank line; comment lines
// (yoga's `:` keep-alive pings) are ignored. It reads one chunk at a time, and
// only when asked (a test can hold back like a slow client). Every wait has a
// deadline, so a stream that goes quiet fails the test and says what it read.
import { expect } from 'vitest';

export interface SseMessage {
  event: string;
  data: string;
}

export interface SseReaderOptions {
  /**
   * Start reading at once, as a server piping the body to its socket does.
   * (`app.fetch` answers with @whatwg-node's ponyfill body, which starts
   * yoga's SSE stream only on its first read: a reader cancelled before
   * that never reaches yoga, so the subscription would not learn it.)
   */
  readAtOnce?: boolean;
}

export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #decoder = new TextDecoder();
  /** Read, not yet parsed into messages. */
  #buffer = '';
  /** The one read in flight: a read a deadline gave up on is kept, never lost. */
  #pending: Promise<void> | undefined;
  #closed = false;
  /** The body as read so far, for tests that look at the raw text. */
  text = '';
  /** Why reading the body failed (an abort, a dropped connection), if it did. */
  failure: unknown;
  /** Every message read so far (for failure messages). */
  readonly seen: SseMessage[] = [];

  constructor(
    readonly response: Response,
    { readAtOnce = false }: SseReaderOptions = {},
  ) {
    this.#reader = response.body?.getReader();
    // No body reads as an empty one.
    if (!this.#reader) this.#closed = true;
    else if (readAtOnce) this.#read();
  }

  /** The next message; fails if the body ends or fails first, or nothing comes within `timeoutMs`. */
  async message(timeoutMs = 5_000): Promise<SseMessage> {
    const message = await this.#next(timeoutMs);
    if (!message) throw new Error(`the event stream closed with no further message; read: ${this.#seenSoFar()}`);
    return message;
  }

  /** The next `event: next` payload as sent (errors allowed), and its raw text. */
  async raw<P = Record<string, unknown>>(timeoutMs = 5_000): Promise<{ payload: P; text: string }> {
    const { event, data } = await this.message(timeoutMs);
    expect(event, `expected "event: next", got "${event}" ${data}`).toBe('next');
    return { payload: JSON.parse(data) as P, text: data };
  }

  /** `event: complete`, then the clean end of the body. */
  async complete(timeoutMs = 5_000): Promise<void> {
    const { event, data } = await this.message(timeoutMs);
    expect(event, `expected "event: complete", got "${event}" ${data}`).toBe('complete');
    await this.ended(timeoutMs);
  }

  /** The body ends cleanly with no further message. */
  async ended(timeoutMs = 5_000): Promise<void> {
    expect(await this.#next(timeoutMs), 'a message after the end').toBeNull();
  }

  /** The body read so far, reading on for up to `ms` until it ends (or fails) or says `event: complete`. */
  async readText(ms = 1_000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!this.#closed && this.failure === undefined && !/event: complete\n/.test(this.text)) {
      if (Date.now() >= deadline || !(await this.#more(deadline))) break;
    }
    return this.text;
  }

  /** The client leaves. */
  async cancel(): Promise<void> {
    this.#closed = true;
    await this.#reader?.cancel().catch(() => {});
  }

  /** The next message, or null once the body has ended cleanly. */
  async #next(timeoutMs: number): Promise<SseMessage | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.#take();
      if (message) {
        this.seen.push(message);
        return message;
      }
      if (this.failure !== undefined) {
        throw new Error(`the event stream failed: ${String(this.failure)}; read: ${this.#seenSoFar()}`);
      }
      if (this.#closed) return null;
      if (!(await this.#more(deadline))) {
        throw new Error(
          `no SSE message within ${timeoutMs} ms; read: ${this.#seenSoFar()} ${this.#buffer.slice(0, 300)}`,
        );
      }
    }
  }

  /** Waits until `deadline` for the read in flight (started if none is); false if it did not finish. */
  async #more(deadline: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    });
    const done = await Promise.race([this.#read().then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  }

  /** One read of the body into the buffer (or the end, or the failure); never rejects. */
  #read(): Promise<void> {
    this.#pending ??= this.#reader!.read().then(
      (result) => {
        this.#pending = undefined;
        if (result.done) {
          this.#closed = true;
          return;
        }
        const chunk = this.#decoder.decode(result.value, { stream: true });
        this.text += chunk;
        this.#buffer += chunk;
      },
      (err: unknown) => {
        this.#pending = undefined;
        this.failure = err ?? 'failed';
      },
    );
    return this.#pending;
  }

  #take(): SseMessage | undefined {
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end < 0) return undefined;
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue; // a comment: yoga's keep-alive ping
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (event !== undefined || data.length > 0) return { event: event ?? 'message', data: data.join('\n') };
    }
  }

  #seenSoFar(): string {
    return JSON.stringify(this.seen.map((m) => `${m.event}: ${m.data.slice(0, 300)}`));
  }
}
