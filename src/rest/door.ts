// What a REST door is: routes onto the service layer, and how it words a
// failure. Doors hold no rules: every check happens in the services, in the
// same order as for GraphQL.

import type { AppError } from '../services/errors.js';
import type { Session } from '../services/session.js';
import type { RestInputError } from './body.js';

export interface RestCall {
  request: Request;
  url: URL;
  /** Path parameters, percent-decoded. */
  params: Record<string, string>;
  /** The request's session for `key` (one per request: the rate-limit headers read it). */
  session(key: string | undefined): Session;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Segments; `:name` captures one. */
  path: string;
  handle(call: RestCall): Promise<Response>;
}

/** What went wrong: an expected failure, a refused input, or (null) something unexpected (masked). */
export type Failure = AppError | RestInputError | null;

export interface Door {
  name: string;
  routes: Route[];
  /** The door's answer to a failure, in its own document's shape. */
  failure(failure: Failure, call: { request: Request; retryAfterSeconds: number }): Response;
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** Invisible formatting characters (bidi overrides, zero-width) and JS line separators. */
const INVISIBLE = /[\p{Cf}\u2028\u2029]/gu;

/**
 * A JSON answer. Client input it carries (an id named as failed) comes back
 * exact as data, but never as raw invisible characters on the wire: they are
 * written as \u escapes, which only occur inside JSON strings.
 */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = JSON.stringify(body).replace(INVISIBLE, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
  return new Response(text, { status, headers: { ...JSON_TYPE, ...headers } });
}

/** Retry-After on a 429 (the rate-limit headers add it too, for the requests that carried a key). */
export function retryAfter(status: number, seconds: number): Record<string, string> {
  return status === 429 && seconds > 0 ? { 'retry-after': String(seconds) } : {};
}

/**
 * The HTTP status of a failure, the same on every door (unless its document
 * says otherwise): the mapping the README tabulates against GraphQL's members.
 */
export type RestStatus = 400 | 401 | 402 | 404 | 405 | 409 | 413 | 423 | 429 | 500 | 503;

export function statusOf(failure: Failure): RestStatus {
  if (failure === null) return 500;
  if (!('code' in failure)) return failure.status;
  switch (failure.code) {
    case 'UNAUTHORIZED':
      return 401;
    case 'PAYMENT_REQUIRED':
      return 402;
    case 'NOT_FOUND':
      return 404;
    case 'INVALID_STATUS':
    case 'CONFLICT':
      return 409;
    case 'QUOTA_EXCEEDED':
      return 423;
    case 'RATE_LIMITED':
      return 429;
    case 'VALIDATION':
    case 'BATCH_ABORTED':
      return 400;
    case 'SCHEDULER_DISABLED':
      return 503;
  }
}
