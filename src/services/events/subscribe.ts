import { admit, READ, recheckAccess } from '../access.js';
import { PaymentRequiredError, RateLimitedError, UnauthorizedError, ValidationError } from '../errors.js';
import { idProblem } from '../input-limits.js';
import type { Session } from '../session.js';
import { EventStream } from './stream.js';
import { type TaskEvent, taskIdOf } from './task-events.js';

/** Ids a subscription may name (more: ask for all events). */
export const MAX_SUBSCRIBED_IDS = 100;

/** Events queued for one subscriber that has stopped reading before its stream ends. */
export const MAX_QUEUED_EVENTS = 1_000;

/** The errors that refuse or end a subscription. */
export type SubscriptionError = UnauthorizedError | PaymentRequiredError | RateLimitedError | ValidationError;
export const ENDING_ERRORS = [UnauthorizedError, PaymentRequiredError, RateLimitedError, ValidationError];
const isEndingError = (e: unknown): e is SubscriptionError => ENDING_ERRORS.some((type) => e instanceof type);

/** What a subscription yields: an event, or the typed error that ends it. */
export type SubscriptionItem = TaskEvent | SubscriptionError;

/**
 * taskEvents: the caller's task events from now on, all of them or only those
 * of `ids`. Subscribing passes a read's checks (Unauthorized → PaymentRequired
 * → RateLimited, counting one operation; events count nothing), then the ids,
 * then the cap on open subscriptions per account on this instance. A refused
 * subscription yields its error and ends. While open, the key and the
 * account's plan are checked again every `subscriptionRecheckSeconds`: a
 * revoked key or a lapsed plan yields its error and ends the stream.
 *
 * Resolves once the bus is listening, so an event of any change made after
 * the subscription was answered is delivered.
 */
export async function subscribeTaskEvents(
  session: Session,
  ids: readonly string[] | null | undefined,
  /** Aborted when the client has gone (a transport may never call the stream's return() then). */
  signal?: AbortSignal,
): Promise<AsyncIterableIterator<SubscriptionItem>> {
  const { events, subscriptions, limits } = session.deps;
  let accountId: string;
  try {
    ({ id: accountId } = await admit(session, READ));
    if (ids && ids.length === 0) {
      throw new ValidationError('ids', 'ids must not be empty: omit it for every task.');
    }
    if (ids && ids.length > MAX_SUBSCRIBED_IDS) {
      throw new ValidationError(
        'ids',
        `At most ${MAX_SUBSCRIBED_IDS} ids per subscription; got ${ids.length} (omit ids for every task).`,
      );
    }
    for (const [i, id] of (ids ?? []).entries()) {
      const problem = idProblem(id);
      if (problem) throw new ValidationError('ids', `ids[${i}] ${problem}.`);
    }
    // Stopping: answered as if it had ended at once (clients reconnect, to another instance).
    if (subscriptions.closing) return ended();
    if (!subscriptions.tryOpen(accountId, limits.subscriptionsPerAccount)) {
      const max = limits.subscriptionsPerAccount;
      throw new RateLimitedError(
        'ACCOUNT',
        max,
        0,
        1,
        `At most ${max} subscriptions of one account may be open at once on this server; close one and subscribe again.`,
      );
    }
  } catch (e) {
    if (!isEndingError(e)) throw e;
    return refused(e);
  }

  const only = ids ? new Set(ids) : null;
  let stopListening: (() => void) | undefined;
  let recheck: NodeJS.Timeout | undefined;
  const leave = () => stream.return();
  const stream = new EventStream<SubscriptionItem>(MAX_QUEUED_EVENTS, () => {
    clearInterval(recheck);
    stopListening?.();
    signal?.removeEventListener('abort', leave);
    subscriptions.closed(accountId, stream);
  });
  subscriptions.track(stream);
  signal?.addEventListener('abort', leave, { once: true });
  try {
    stopListening = await events.subscribe(
      accountId,
      (event) => {
        if (!only || only.has(taskIdOf(event))) stream.push(event);
      },
      // Events may have been missed (Redis connection lost): end, so the client resubscribes and refetches.
      () => stream.end(),
    );
  } catch (e) {
    stream.end();
    throw e;
  }
  // Ended while the bus was subscribing (the client left, the server stops).
  if (signal?.aborted) void stream.return();
  if (stream.ended) {
    stopListening();
    return stream;
  }
  recheck = setInterval(async () => {
    try {
      await recheckAccess(session, READ);
    } catch (e) {
      if (isEndingError(e)) stream.end(e);
      // Anything else (the database briefly away): keep the stream, try next time.
    }
  }, limits.subscriptionRecheckSeconds * 1000);
  recheck.unref();
  return stream;
}

/** A refused subscription: its one error, then the end. */
function refused(error: SubscriptionError): AsyncIterableIterator<SubscriptionItem> {
  const stream = new EventStream<SubscriptionItem>(1, () => {});
  stream.end(error);
  return stream;
}

function ended(): AsyncIterableIterator<SubscriptionItem> {
  const stream = new EventStream<SubscriptionItem>(0, () => {});
  stream.end();
  return stream;
}
