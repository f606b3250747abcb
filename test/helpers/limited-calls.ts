// Calls through one app, REST and GraphQL alike, answered with what the shared
// limits show: the status, the RateLimit-* and Retry-After headers, the body.
// For the suites that count one account's window across every door
// (rest-limits, and across two instances in rest-limits.redis).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { expect } from 'vitest';
import type { App } from '../../src/app.js';

const HEADER_NAMES = ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-policy', 'retry-after'];

export interface Reply {
  status: number;
  /** The RateLimit-* and Retry-After headers the response carried. */
  headers: Record<string, string>;
  /** The parsed JSON body; null when the body is empty. */
  body: unknown;
}

export async function send(app: App, path: string, init: RequestInit = {}): Promise<Reply> {
  const res = await app.fetch(`http://localhost${path}`, init);
  const text = await res.text();
  const headers = Object.fromEntries(
    HEADER_NAMES.flatMap((n) => (res.headers.has(n) ? [[n, res.headers.get(n)!]] : [])),
  );
  return { status: res.status, headers, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

const enc = encodeURIComponent;

/** One call per REST route, with the key where that API's clients put it. */
export function restCalls(app: App) {
  return {
    list: (key: string) => send(app, '/v1/tasks', { headers: { 'x-access-key': key } }),
    get: (key: string, id: string) => send(app, `/v1/tasks/${enc(id)}`, { headers: { 'x-access-key': key } }),
    del: (key: string, id: string) =>
      send(app, `/v1/tasks/${enc(id)}`, { method: 'DELETE', headers: { 'x-access-key': key } }),
    cancel: (key: string, id: string) =>
      send(app, `/schedule/${enc(key)}/${enc(id)}/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    batch: (key: string, ids: string[]) =>
      send(app, '/v2/proj-1/scheduled-tasks/batch-delete', {
        method: 'POST',
        headers: { 'x-auth-token': key, 'content-type': 'application/json' },
        body: JSON.stringify({ task_ids: ids }),
      }),
    image: (key: string, id: string) =>
      send(app, '/api/v1/task/delete', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ task_uid: id }).toString(),
      }),
  };
}

export type Answer = { __typename: string } & Record<string, unknown>;

export interface GqlReply {
  status: number;
  headers: Record<string, string>;
  answer: Answer;
}

/** One GraphQL operation (one root field) through `app`: its answer and headers. */
export async function graphqlOne<TData, TVars>(
  app: App,
  doc: TypedDocumentNode<TData, TVars>,
  variables: TVars,
  key: string,
): Promise<GqlReply> {
  const res = await send(app, '/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      'x-access-key': key,
    },
    body: JSON.stringify({ query: print(doc), variables }),
  });
  expect(res.status).toBe(200);
  const body = res.body as { data: Record<string, Answer>; errors?: unknown };
  expect(body.errors).toBeUndefined();
  const answers = Object.values(body.data);
  expect(answers).toHaveLength(1);
  return { status: res.status, headers: res.headers, answer: answers[0]! };
}
