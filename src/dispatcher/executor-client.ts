// One attempt of a run: the HTTP call to the operator's execution service.
// GET {EXECUTOR_URL}/{api}?{query}, signed; 2xx within the timeout succeeds.
import type { RunSettings } from '../config.js';
import type { TaskRun } from '../db/models.js';
import type { RunToExecute } from '../db/run-writes.js';
import { signature } from './signature.js';

export interface AttemptResult {
  ok: boolean;
  timedOut: boolean;
  httpStatus: number | null;
  /** A short message (never the executor's whole body); null when ok. */
  error: string | null;
  /** How long the attempt took. */
  ms: number;
}

/** At most this much of an executor's answer is read; the rest is dropped. */
const MAX_BODY_READ = 4096;
/** At most this much of it is kept as the run's error. */
const MAX_ERROR_LENGTH = 200;

/** The URL of a task's call: the executor's own path, then the api, then the task's query. */
export function executorUrl(base: string, task: RunToExecute['task']): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${task.api.toLowerCase()}`;
  url.search = task.query ? `?${task.query}` : '';
  return url;
}

/** Printable, one line, short: what of an executor's text the run keeps. */
export function shortMessage(text: string): string {
  const line = text.replace(/[\p{Cc}\p{Cf}\s]+/gu, ' ').trim();
  return line.length > MAX_ERROR_LENGTH ? `${line.slice(0, MAX_ERROR_LENGTH - 1)}…` : line;
}

/** Reads the start of a body and drops the rest. */
async function bodyPrefix(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY_READ) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_READ).toString('utf8');
}

export async function callExecutor(
  settings: Pick<RunSettings, 'executorUrl' | 'executorSecret' | 'timeoutMs'>,
  run: Pick<TaskRun, 'id' | 'taskId' | 'accountId' | 'scheduledFor' | 'attempts'>,
  task: RunToExecute['task'],
  nowMs: number,
): Promise<AttemptResult> {
  const url = executorUrl(settings.executorUrl as string, task);
  const t = Math.floor(nowMs / 1000);
  const started = performance.now();
  const result = (r: Omit<AttemptResult, 'ms'>): AttemptResult => ({
    ...r,
    ms: Math.round(performance.now() - started),
  });
  try {
    const res = await fetch(url, {
      method: 'GET',
      redirect: 'manual',
      signal: AbortSignal.timeout(settings.timeoutMs),
      headers: {
        'x-task-id': run.taskId,
        'x-run-id': run.id,
        'x-scheduled-for': run.scheduledFor.toISOString(),
        'x-attempt': String(run.attempts),
        'x-account-id': run.accountId,
        'x-signature': signature(settings.executorSecret, t, 'GET', url.pathname + url.search, run.id),
        'user-agent': 'task-schedule-dispatcher',
      },
    });
    // The status decides: a 2xx within the timeout succeeded, however slowly its body ends.
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel().catch(() => {});
      return result({ ok: true, timedOut: false, httpStatus: res.status, error: null });
    }
    // A failure keeps the start of its body; a body that stalls keeps none.
    const detail = shortMessage(await bodyPrefix(res).catch(() => ''));
    return result({
      ok: false,
      timedOut: false,
      httpStatus: res.status,
      error: shortMessage(`HTTP ${res.status}${detail ? `: ${detail}` : ''}`),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError') {
      return result({
        ok: false,
        timedOut: true,
        httpStatus: null,
        error: `No answer within ${settings.timeoutMs / 1000}s.`,
      });
    }
    const cause = err.cause?.code ?? err.cause?.message ?? err.message;
    return result({ ok: false, timedOut: false, httpStatus: null, error: shortMessage(`Request failed: ${cause}`) });
  }
}
