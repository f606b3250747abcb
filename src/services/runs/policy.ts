// The timing rules of a run's attempts: how long a dispatcher holds a run,
// and how long it waits before trying again.
import type { RunSettings } from '../../config.js';

/**
 * How long a dispatcher holds a run for one attempt: the executor's timeout
 * and a margin (2 to 5 s) for committing the claim and recording the result
 * (a claim of 50 tasks on a loaded PostgreSQL took a few hundred ms). A dispatcher that has not
 * ended or renewed the run by then is presumed dead and any other takes it over.
 */
export function leaseMs(settings: Pick<RunSettings, 'timeoutMs'>): number {
  return settings.timeoutMs + Math.min(5_000, Math.max(2_000, settings.timeoutMs));
}

/** The longest wait between two attempts, however many attempts and whatever the base. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * The wait after failed attempt `attempt` (1-based): the base doubled per
 * attempt (at most an hour), with "equal jitter" (half fixed, half random) so
 * retries of runs that failed together do not hit the executor together again.
 */
export function retryDelayMs(
  settings: Pick<RunSettings, 'retryBaseMs'>,
  attempt: number,
  random: () => number = Math.random,
): number {
  const full = Math.min(MAX_RETRY_DELAY_MS, settings.retryBaseMs * 2 ** (attempt - 1));
  return Math.round(full / 2 + random() * (full / 2));
}
