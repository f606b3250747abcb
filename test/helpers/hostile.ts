// Helpers for the hostile-client suite: every response goes through `answered`,
// which asserts the two properties no request may break — never a 5xx, never a
// leak of internals (stack, SQL, file path, Prisma text, originalError).
import { expect } from 'vitest';

/** What no response body may contain, each with a name for the failure message. */
export const LEAKS: readonly (readonly [string, RegExp])[] = [
  ['a stack trace', /(?:\n|\\n)\s+at \S|\bat [\w$.<>[\]]+ \((?:file:|node:|\/)|"stack"\s*:/],
  ['SQL (SELECT)', /\bSELECT\b/],
  ['SQL (INSERT)', /\bINSERT\b/],
  ['SQL (UPDATE)', /\bUPDATE\b/],
  ['SQL (DELETE FROM)', /\bDELETE FROM\b/i],
  ['SQLite text', /sqlite/i],
  ['SQLite error code', /SQLITE_/],
  ['a source path (/src/)', /\/src\//],
  ['a machine path (/work/)', /\/work\//],
  ['node_modules', /node_modules/],
  ['a TypeScript file position (.ts:)', /\.ts:/],
  ['Prisma text', /prisma/i],
  ['a Prisma error code (P20xx)', /\bP20\d\d\b/],
  ['an originalError extension', /originalError/],
];

export interface Answer {
  status: number;
  headers: Headers;
  /** The body as text (what the no-leak check read). */
  text: string;
  /** Size of the body in bytes. */
  bytes: number;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: GqlBody | undefined;
}

export interface GqlError {
  message: string;
  extensions?: Record<string, unknown>;
  path?: unknown[];
}

export interface GqlBody {
  data?: Record<string, unknown> | null;
  errors?: GqlError[];
}

/** Asserts a body leaks nothing of the server's internals. */
export function expectNoLeak(text: string, what = 'response') {
  for (const [name, pattern] of LEAKS) {
    const m = pattern.exec(text);
    if (m) {
      const at = Math.max(0, m.index - 80);
      expect.fail(`${what} contains ${name}: …${text.slice(at, m.index + 120)}…`);
    }
  }
}

/**
 * Reads a response and asserts it is never a 5xx and leaks nothing. Every
 * response of the hostile suite goes through here.
 */
export async function answered(res: Response, what = 'response'): Promise<Answer> {
  const buffer = Buffer.from(await res.arrayBuffer());
  const text = buffer.toString('utf8');
  const preview = text.length > 400 ? `${text.slice(0, 400)}… (${buffer.byteLength} bytes)` : text;
  expect(res.status, `${what}: HTTP ${res.status}, never a 5xx. Body: ${preview}`).toBeLessThan(500);
  expectNoLeak(text, what);
  let json: GqlBody | undefined;
  // A huge body has already failed its size assertion elsewhere; do not parse it.
  if (buffer.byteLength < 8_000_000) {
    try {
      json = JSON.parse(text) as GqlBody;
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, headers: res.headers, text, bytes: buffer.byteLength, json };
}

/** A short preview of an answer for failure messages. */
export function preview(a: Answer, max = 600): string {
  const body = a.text.length > max ? `${a.text.slice(0, max)}… (${a.bytes} bytes)` : a.text;
  return `HTTP ${a.status}: ${body}`;
}

/** Asserts a 4xx with a GraphQL error (and no data), and returns the error messages. */
export function expectRequestError(a: Answer, message?: RegExp): string[] {
  expect(a.status, preview(a)).toBeGreaterThanOrEqual(400);
  expect(a.status, preview(a)).toBeLessThan(500);
  const errors = a.json?.errors;
  expect(Array.isArray(errors) && errors.length > 0, `a GraphQL error list: ${preview(a)}`).toBe(true);
  const messages = errors!.map((e) => e.message);
  // A refusal names what is wrong; a masked internal failure is not one, whatever its status.
  for (const e of errors!) {
    expect(e.extensions?.code, `an internal error answered as a request error: ${preview(a)}`).not.toBe(
      'INTERNAL_SERVER_ERROR',
    );
  }
  if (message) expect(messages.join('\n'), preview(a)).toMatch(message);
  return messages;
}

/**
 * Asserts that `message` does not contain more than `max` consecutive
 * characters of `input` (a short prefix of client input may be echoed, never
 * the whole of a long value).
 */
export function expectShortEcho(message: string, input: string, max = 32, what = 'message') {
  const width = max + 1;
  for (let i = 0; i + width <= message.length; i++) {
    const window = message.slice(i, i + width);
    if (input.includes(window)) {
      const shown = message.length > 200 ? `${message.slice(0, 200)}… (${message.length} chars)` : message;
      expect.fail(`${what} echoes more than ${max} consecutive characters of the client's input: ${shown}`);
    }
  }
}

/** C0/C1 controls and Unicode bidirectional controls (overrides, embeddings, isolates, marks). */
export const RAW_CONTROL = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/** A string of `length` characters that never repeats a 33-character window within 36^2 characters. */
export function distinctText(length: number, prefix = ''): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = prefix;
  let i = 0;
  while (s.length < length) {
    s += `${alphabet[i % 36]}${alphabet[Math.floor(i / 36) % 36]}`;
    i++;
  }
  return s.slice(0, length);
}
