// The schedule-management operations from real frontend clients over real
// HTTP: Apollo Client (InMemoryCache with the generated possibleTypes) and urql
// (Graphcache with the generated introspection), each set up as
// test/clients/*.ts sets it up.
//  - pauseSchedule, resumeSchedule and updateTask payloads update the cached
//    task by id, with no refetch;
//  - a stale expectedVersion is a Conflict, handled by an exhaustive switch;
//    it carries the task as it is now, which updates the cache by id, and a
//    retry at currentVersion succeeds;
//  - schedulePreview as a debounced schedule form calls it, and its answers
//    (no id) stay embedded under their arguments in both caches.
//
// Task.nextRuns takes arguments, so no mutation payload can carry it (the
// payloads select TaskFields): a change that replans the schedule (pause,
// resume, a new crontab, time zone or frequency) leaves the cached nextRuns
// stale. Both clients evict it on such a change (urql: the recommended setup in
// test/clients/urql.ts; Apollo: each mutation's update), so a page showing it
// refetches exactly that field rather than showing runs of a paused task.
import type { ApolloCache } from '@apollo/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import {
  PauseScheduleDocument,
  ResumeScheduleDocument,
  SchedulePreviewDocument,
  type SchedulePreviewQuery,
  TaskDocument,
  TaskNextRunsDocument,
  UpdateTaskDocument,
  type UpdateTaskInput,
  type UpdateTaskMutation,
} from '../src/generated/client/graphql.js';
import { createApolloClient } from './clients/apollo.js';
import { createUrqlClient } from './clients/urql.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';
import { type Listening, listen } from './helpers/socket.js';

let h: Harness;
let server: Listening;
let url: string;

beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 1000, scheduleMax: 1000 } });
  server = await listen(h.app);
  url = server.url;
});
afterAll(async () => {
  await server.close();
  await h.close();
});

// Friday 2026-03-06 12:00Z: New York springs forward on Sunday 03-08 at 02:00.
const FRIDAY = Date.UTC(2026, 2, 6, 12, 0, 0);
const DAY = 86_400;

// Neither cache may complain (missing keys, data lost on a write, heuristic
// fragment matching): both are told the schema's types by codegen.
let warn: MockInstance<typeof console.warn>;
let error: MockInstance<typeof console.error>;
beforeEach(() => {
  h.clock.ms = FRIDAY;
  warn = vi.spyOn(console, 'warn');
  error = vi.spyOn(console, 'error');
});
afterEach(() => {
  const said = [...warn.mock.calls, ...error.mock.calls];
  warn.mockRestore();
  error.mockRestore();
  expect(said).toEqual([]);
});

/** Daily midnight-UTC runs (the harness seeds `0 0 * * *` in Etc/UTC) from `first`, as `at` values. */
function midnights(first: string, count = 5): string[] {
  const start = Date.parse(first);
  return Array.from({ length: count }, (_, i) => new Date(start + i * DAY * 1000).toISOString());
}

/** A change to these fields replans the task: its cached nextRuns must go. */
const replans = (input: UpdateTaskInput) => input.crontab != null || input.timezone != null || input.frequency != null;

// ---------------------------------------------------------------------------
// What an edit form does with updateTask's answer: an exhaustive switch.

function renderSave(answer: UpdateTaskMutation['updateTask']): string {
  if (!answer) return 'unexpected error';
  switch (answer.__typename) {
    case 'UpdateTaskSuccess':
      return `saved ${answer.task.name} (v${answer.task.version})${answer.changed ? '' : ', unchanged'}`;
    case 'Conflict':
      return `changed elsewhere: now v${answer.currentVersion}, you edited v${answer.expectedVersion}`;
    case 'NotFound':
      return `not found: ${answer.code}`;
    case 'InvalidStatus':
      return `cannot edit a ${answer.currentStatus} task`;
    case 'ValidationError':
      return `invalid ${answer.field}: ${answer.code}`;
    case 'Unauthorized':
      return `sign in: ${answer.code}`;
    case 'PaymentRequired':
      return `payment required: ${answer.reason}`;
    case 'RateLimited':
      return `retry in ${answer.retryAfterSeconds}s`;
    case 'QuotaExceeded':
      return `quota used: ${answer.used} of ${answer.limit}`;
    default: {
      const unhandled: never = answer;
      return unhandled;
    }
  }
}

// ---------------------------------------------------------------------------
// A schedule form: the crontab field previews what was typed once typing
// stops (each call counts against the rate limit), on timers the test moves.

const DEBOUNCE_MS = 300;
const KEYSTROKE_MS = 120;

type Preview = SchedulePreviewQuery['schedulePreview'];

function renderPreview(preview: Preview): string {
  if (!preview) return 'unexpected error';
  switch (preview.__typename) {
    case 'SchedulePreview':
      return [
        preview.description,
        ...preview.nextRuns.map((r) => `${r.at} ${r.local}${r.shifted ? ' (moved past the DST gap)' : ''}`),
      ].join('\n');
    case 'ValidationError':
      return `invalid ${preview.field}: ${preview.message}`;
    case 'RateLimited':
      return `too fast, retry in ${preview.retryAfterSeconds}s`;
    case 'Unauthorized':
      return `sign in: ${preview.code}`;
    default: {
      const unhandled: never = preview;
      return unhandled;
    }
  }
}

/** setTimeout/clearTimeout on a clock the test advances (the app and clients keep the real ones). */
class ManualTimers {
  private now = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; run: () => void }>();
  setTimeout(run: () => void, ms: number): number {
    this.pending.set(++this.seq, { at: this.now + ms, run });
    return this.seq;
  }
  clearTimeout(id: number | undefined) {
    if (id !== undefined) this.pending.delete(id);
  }
  advance(ms: number) {
    this.now += ms;
    const due = [...this.pending].filter(([, t]) => t.at <= this.now).sort(([, a], [, b]) => a.at - b.at);
    for (const [id, t] of due) {
      this.pending.delete(id);
      t.run();
    }
  }
}

function scheduleForm(preview: (crontab: string, timezone: string) => Promise<Preview>, timezone: string) {
  const timers = new ManualTimers();
  let timer: number | undefined;
  let inflight: Promise<void> = Promise.resolve();
  const form = {
    /** Crontabs previewed, in order: one per settled value. */
    calls: [] as string[],
    /** What the form shows under the field. */
    shown: '',
    /** One keystroke: the field now holds `crontab`. */
    input(crontab: string) {
      timers.clearTimeout(timer);
      timer = timers.setTimeout(() => {
        form.calls.push(crontab);
        inflight = preview(crontab, timezone).then((answer) => {
          form.shown = renderPreview(answer);
        });
      }, DEBOUNCE_MS);
    },
    /** Types `text` after what the field holds, one key every KEYSTROKE_MS, then stops and waits for the preview. */
    async type(from: string, text: string) {
      for (let i = 1; i <= text.length; i++) {
        form.input(from + text.slice(0, i));
        timers.advance(KEYSTROKE_MS);
      }
      timers.advance(DEBOUNCE_MS);
      await inflight;
    },
  };
  return form;
}

const NEW_YORK_PREVIEW = [
  'At 02:30',
  '2026-03-07T07:30:00.000Z 2026-03-07T02:30:00-05:00',
  // 02:30 does not exist on 2026-03-08 in New York: the run is at 03:00 EDT.
  '2026-03-08T07:00:00.000Z 2026-03-08T03:00:00-04:00 (moved past the DST gap)',
  '2026-03-09T06:30:00.000Z 2026-03-09T02:30:00-04:00',
  '2026-03-10T06:30:00.000Z 2026-03-10T02:30:00-04:00',
  '2026-03-11T06:30:00.000Z 2026-03-11T02:30:00-04:00',
].join('\n');

/** Types `30 2 *` (an invalid crontab), pauses, then ` * *`, pauses; asserts what the form showed each time. */
async function typeNightlyCrontab(preview: (crontab: string, timezone: string) => Promise<Preview>) {
  const form = scheduleForm(preview, 'America/New_York');
  await form.type('', '30 2 *');
  // Six keystrokes, one call: for the value typing stopped at.
  expect(form.calls).toEqual(['30 2 *']);
  expect(form.shown).toMatch(/^invalid crontab: \S/);
  await form.type('30 2 *', ' * *');
  expect(form.calls).toEqual(['30 2 *', '30 2 * * *']);
  expect(form.shown).toBe(NEW_YORK_PREVIEW);
}

// ---------------------------------------------------------------------------

describe('Apollo Client', () => {
  /** Evicts every cached nextRuns(…) of the task: the next read of it goes to the server. */
  function evictPlannedRuns(cache: ApolloCache, taskId: string) {
    cache.evict({ id: cache.identify({ __typename: 'Task', id: taskId }), fieldName: 'nextRuns' });
  }

  async function setup() {
    const { id: accountId, key } = await h.account();
    const taskId = await h.task(accountId, { name: 'nightly' });
    const client = createApolloClient(url, key);
    const variables = { id: taskId };
    const cachedTask = () => narrow(client.readQuery({ query: TaskDocument, variables })?.task, 'Task');
    const cachedRuns = () => client.readQuery({ query: TaskNextRunsDocument, variables });
    const pause = () =>
      client.mutate({
        mutation: PauseScheduleDocument,
        variables,
        update(cache, { data }) {
          if (data?.pauseSchedule?.__typename === 'PauseScheduleSuccess') evictPlannedRuns(cache, taskId);
        },
      });
    const resume = () =>
      client.mutate({
        mutation: ResumeScheduleDocument,
        variables,
        update(cache, { data }) {
          if (data?.resumeSchedule?.__typename === 'ResumeScheduleSuccess') evictPlannedRuns(cache, taskId);
        },
      });
    const update = async (input: UpdateTaskInput, expectedVersion?: number) =>
      (
        await client.mutate({
          mutation: UpdateTaskDocument,
          variables: { id: taskId, input, expectedVersion },
          update(cache, { data }) {
            if (data?.updateTask?.__typename === 'UpdateTaskSuccess' && replans(input)) evictPlannedRuns(cache, taskId);
          },
        })
      ).data?.updateTask ?? null;
    return { accountId, key, taskId, client, variables, cachedTask, cachedRuns, pause, resume, update };
  }

  it('pause, resume and update payloads update the cached task by id, with no refetch', async () => {
    const { taskId, client, variables, cachedTask, cachedRuns, pause, resume, update } = await setup();
    // A schedule page: the task, and its upcoming runs.
    const task = narrow((await client.query({ query: TaskDocument, variables })).data?.task, 'Task');
    expect(task).toMatchObject({ name: 'nightly', status: 'ACTIVE', enabled: true, version: 1 });
    expect(task.nextRunAt).toBe('2026-03-07T00:00:00.000Z');
    const page = narrow((await client.query({ query: TaskNextRunsDocument, variables })).data?.task, 'Task');
    expect(page.nextRuns.map((r) => r.at)).toEqual(midnights('2026-03-07T00:00:00.000Z'));

    const paused = narrow((await pause()).data?.pauseSchedule, 'PauseScheduleSuccess');
    expect(paused).toMatchObject({ scheduleId: taskId, oldStatus: 'ACTIVE', newStatus: 'PAUSED' });
    // readQuery never goes to the network: this is the payload, normalised by id.
    expect(cachedTask()).toMatchObject({
      name: 'nightly',
      status: 'PAUSED',
      enabled: false,
      nextRunAt: null,
      version: 2,
    });
    // The runs of an ACTIVE task are gone rather than shown for a paused one…
    expect(cachedRuns()).toBeNull();
    // …so the page refetches that one field: a paused task has none.
    const pausedPage = narrow((await client.query({ query: TaskNextRunsDocument, variables })).data?.task, 'Task');
    expect(pausedPage).toMatchObject({ version: 2, nextRunAt: null, nextRuns: [] });

    // Paused over the weekend: resuming plans from now, not from before.
    h.clock.advance(2 * DAY);
    const resumed = narrow((await resume()).data?.resumeSchedule, 'ResumeScheduleSuccess');
    expect(resumed).toMatchObject({ scheduleId: taskId, oldStatus: 'PAUSED', newStatus: 'ACTIVE' });
    expect(cachedTask()).toMatchObject({
      status: 'ACTIVE',
      enabled: true,
      version: 3,
      nextRunAt: '2026-03-09T00:00:00.000Z',
    });
    expect(cachedRuns()).toBeNull();
    const resumedPage = narrow((await client.query({ query: TaskNextRunsDocument, variables })).data?.task, 'Task');
    expect(resumedPage.nextRuns.map((r) => r.at)).toEqual(midnights('2026-03-09T00:00:00.000Z'));

    // A rename does not replan: the cached runs stay, and stay right.
    expect(renderSave(await update({ name: 'nightly report' }, 3))).toBe('saved nightly report (v4)');
    expect(cachedTask()).toMatchObject({ name: 'nightly report', version: 4, status: 'ACTIVE' });
    const renamedPage = narrow(cachedRuns()?.task, 'Task');
    expect(renamedPage).toMatchObject({ version: 4, nextRunAt: '2026-03-09T00:00:00.000Z' });
    expect(renamedPage.nextRuns).toEqual(resumedPage.nextRuns);

    // A new crontab and time zone replan: the cached task has the new next run, the runs are refetched.
    h.clock.ms = FRIDAY;
    const moved = await update({ crontab: '30 2 * * *', timezone: 'America/New_York' }, 4);
    expect(renderSave(moved)).toBe('saved nightly report (v5)');
    expect(cachedTask()).toMatchObject({
      crontab: '30 2 * * *',
      timezone: 'America/New_York',
      description: 'At 02:30',
      version: 5,
      nextRunAt: '2026-03-07T07:30:00.000Z',
    });
    expect(cachedRuns()).toBeNull();
    const movedPage = narrow((await client.query({ query: TaskNextRunsDocument, variables })).data?.task, 'Task');
    expect(movedPage.nextRuns[1]).toEqual({
      __typename: 'PlannedRun',
      at: '2026-03-08T07:00:00.000Z',
      local: '2026-03-08T03:00:00-04:00',
      shifted: true,
    });
  });

  it('a stale expectedVersion is a Conflict that brings the current task into the cache; a retry at currentVersion saves', async () => {
    const { key, taskId, client, variables, cachedTask, update } = await setup();
    const read = narrow((await client.query({ query: TaskDocument, variables })).data?.task, 'Task');
    expect(read).toMatchObject({ name: 'nightly', version: 1 });

    // Someone else saves first, in another browser.
    const other = createApolloClient(url, key);
    const theirs = await other.mutate({
      mutation: UpdateTaskDocument,
      variables: { id: taskId, input: { name: 'nightly (theirs)' }, expectedVersion: 1 },
    });
    expect(renderSave(theirs.data?.updateTask ?? null)).toBe('saved nightly (theirs) (v2)');

    // Our form still holds version 1.
    const stale = await update({ name: 'nightly (ours)' }, read.version);
    expect(renderSave(stale)).toBe('changed elsewhere: now v2, you edited v1');
    expect(narrow(stale, 'Conflict')).toMatchObject({ code: 'CONFLICT', currentVersion: 2, expectedVersion: 1 });
    // The Conflict carried the task as it is now: the cache caught up by id.
    expect(cachedTask()).toMatchObject({ name: 'nightly (theirs)', version: 2 });
    // Nothing of ours was written.
    expect(narrow((await other.query({ query: TaskDocument, variables })).data?.task, 'Task')).toMatchObject({
      name: 'nightly (theirs)',
      version: 2,
    });

    const retried = await update({ name: 'nightly (ours)' }, narrow(stale, 'Conflict').currentVersion);
    expect(renderSave(retried)).toBe('saved nightly (ours) (v3)');
    expect(cachedTask()).toMatchObject({ name: 'nightly (ours)', version: 3 });
  });

  it('schedulePreview from a debounced form; each answer stays cached under its own arguments', async () => {
    const { key } = await h.account();
    const client = createApolloClient(url, key);
    const preview = async (crontab: string, timezone: string) =>
      (await client.query({ query: SchedulePreviewDocument, variables: { crontab, timezone } })).data
        ?.schedulePreview ?? null;
    await typeNightlyCrontab(preview);

    // The same crontab in another zone is another answer, not an overwrite.
    const berlin = narrow(await preview('30 2 * * *', 'Europe/Berlin'), 'SchedulePreview');
    expect(berlin.nextRuns[0]).toMatchObject({ at: '2026-03-07T01:30:00.000Z', local: '2026-03-07T02:30:00+01:00' });
    const cached = (crontab: string, timezone: string) =>
      client.readQuery({ query: SchedulePreviewDocument, variables: { crontab, timezone } })?.schedulePreview ?? null;
    expect(renderPreview(cached('30 2 * * *', 'America/New_York'))).toBe(NEW_YORK_PREVIEW);
    expect(narrow(cached('30 2 * * *', 'Europe/Berlin'), 'SchedulePreview')).toEqual(berlin);
    expect(narrow(cached('30 2 *', 'America/New_York'), 'ValidationError').field).toBe('crontab');
    // No id, so nothing normalised: every answer is embedded in ROOT_QUERY under its arguments.
    expect(Object.keys(client.cache.extract() as object)).toEqual(['ROOT_QUERY']);
  });
});

describe('urql with Graphcache', () => {
  async function setup() {
    const { id: accountId, key } = await h.account();
    const taskId = await h.task(accountId, { name: 'nightly' });
    const client = createUrqlClient(url, key);
    const variables = { id: taskId };
    const cachedTask = async () =>
      narrow(
        (await client.query(TaskDocument, variables, { requestPolicy: 'cache-only' }).toPromise()).data?.task,
        'Task',
      );
    const cachedRuns = async () =>
      (await client.query(TaskNextRunsDocument, variables, { requestPolicy: 'cache-only' }).toPromise()).data?.task ??
      null;
    const fetchRuns = async () => {
      const result = await client.query(TaskNextRunsDocument, variables).toPromise();
      expect(result.error).toBeUndefined();
      return narrow(result.data?.task, 'Task');
    };
    const update = async (input: UpdateTaskInput, expectedVersion?: number) => {
      const result = await client.mutation(UpdateTaskDocument, { id: taskId, input, expectedVersion }).toPromise();
      expect(result.error).toBeUndefined();
      return result.data?.updateTask ?? null;
    };
    return { accountId, key, taskId, client, variables, cachedTask, cachedRuns, fetchRuns, update };
  }

  it('pause, resume and update payloads update the cached task by id, with no refetch', async () => {
    const { taskId, client, variables, cachedTask, cachedRuns, fetchRuns, update } = await setup();
    const task = narrow((await client.query(TaskDocument, variables).toPromise()).data?.task, 'Task');
    expect(task).toMatchObject({ name: 'nightly', status: 'ACTIVE', enabled: true, version: 1 });
    expect(task.nextRunAt).toBe('2026-03-07T00:00:00.000Z');
    expect((await fetchRuns()).nextRuns.map((r) => r.at)).toEqual(midnights('2026-03-07T00:00:00.000Z'));

    const paused = await client.mutation(PauseScheduleDocument, variables).toPromise();
    expect(narrow(paused.data?.pauseSchedule, 'PauseScheduleSuccess')).toMatchObject({
      scheduleId: taskId,
      oldStatus: 'ACTIVE',
      newStatus: 'PAUSED',
    });
    // cache-only never goes to the network: this is the payload, normalised by id.
    expect(await cachedTask()).toMatchObject({
      name: 'nightly',
      status: 'PAUSED',
      enabled: false,
      nextRunAt: null,
      version: 2,
    });
    // The runs of an ACTIVE task are gone rather than shown for a paused one; the page refetches them.
    expect(await cachedRuns()).toBeNull();
    expect(await fetchRuns()).toMatchObject({ version: 2, nextRunAt: null, nextRuns: [] });

    h.clock.advance(2 * DAY);
    const resumed = await client.mutation(ResumeScheduleDocument, variables).toPromise();
    expect(narrow(resumed.data?.resumeSchedule, 'ResumeScheduleSuccess')).toMatchObject({
      oldStatus: 'PAUSED',
      newStatus: 'ACTIVE',
    });
    expect(await cachedTask()).toMatchObject({
      status: 'ACTIVE',
      enabled: true,
      version: 3,
      nextRunAt: '2026-03-09T00:00:00.000Z',
    });
    expect(await cachedRuns()).toBeNull();
    const resumedRuns = (await fetchRuns()).nextRuns;
    expect(resumedRuns.map((r) => r.at)).toEqual(midnights('2026-03-09T00:00:00.000Z'));

    expect(renderSave(await update({ name: 'nightly report' }, 3))).toBe('saved nightly report (v4)');
    expect(await cachedTask()).toMatchObject({ name: 'nightly report', version: 4, status: 'ACTIVE' });
    const renamedPage = narrow(await cachedRuns(), 'Task');
    expect(renamedPage).toMatchObject({ version: 4, nextRunAt: '2026-03-09T00:00:00.000Z' });
    expect(renamedPage.nextRuns).toEqual(resumedRuns);

    h.clock.ms = FRIDAY;
    const moved = await update({ crontab: '30 2 * * *', timezone: 'America/New_York' }, 4);
    expect(renderSave(moved)).toBe('saved nightly report (v5)');
    expect(await cachedTask()).toMatchObject({
      crontab: '30 2 * * *',
      timezone: 'America/New_York',
      description: 'At 02:30',
      version: 5,
      nextRunAt: '2026-03-07T07:30:00.000Z',
    });
    expect(await cachedRuns()).toBeNull();
    expect((await fetchRuns()).nextRuns[1]).toMatchObject({
      at: '2026-03-08T07:00:00.000Z',
      local: '2026-03-08T03:00:00-04:00',
      shifted: true,
    });
  });

  it('a stale expectedVersion is a Conflict that brings the current task into the cache; a retry at currentVersion saves', async () => {
    const { key, taskId, client, variables, cachedTask, update } = await setup();
    const read = narrow((await client.query(TaskDocument, variables).toPromise()).data?.task, 'Task');
    expect(read).toMatchObject({ name: 'nightly', version: 1 });

    const other = createUrqlClient(url, key);
    const theirs = await other
      .mutation(UpdateTaskDocument, { id: taskId, input: { name: 'nightly (theirs)' }, expectedVersion: 1 })
      .toPromise();
    expect(renderSave(theirs.data?.updateTask ?? null)).toBe('saved nightly (theirs) (v2)');

    const stale = await update({ name: 'nightly (ours)' }, read.version);
    expect(renderSave(stale)).toBe('changed elsewhere: now v2, you edited v1');
    expect(narrow(stale, 'Conflict')).toMatchObject({ code: 'CONFLICT', currentVersion: 2, expectedVersion: 1 });
    // The Conflict carried the task as it is now: the cache caught up by id.
    expect(await cachedTask()).toMatchObject({ name: 'nightly (theirs)', version: 2 });
    const server = await other.query(TaskDocument, variables, { requestPolicy: 'network-only' }).toPromise();
    expect(narrow(server.data?.task, 'Task')).toMatchObject({ name: 'nightly (theirs)', version: 2 });

    const retried = await update({ name: 'nightly (ours)' }, narrow(stale, 'Conflict').currentVersion);
    expect(renderSave(retried)).toBe('saved nightly (ours) (v3)');
    expect(await cachedTask()).toMatchObject({ name: 'nightly (ours)', version: 3 });
  });

  it('schedulePreview from a debounced form; each answer stays cached under its own arguments', async () => {
    const { key } = await h.account();
    const client = createUrqlClient(url, key);
    const ask = async (crontab: string, timezone: string, requestPolicy: 'cache-first' | 'cache-only') => {
      const result = await client.query(SchedulePreviewDocument, { crontab, timezone }, { requestPolicy }).toPromise();
      expect(result.error).toBeUndefined();
      return result.data?.schedulePreview ?? null;
    };
    await typeNightlyCrontab((crontab, timezone) => ask(crontab, timezone, 'cache-first'));

    const berlin = narrow(await ask('30 2 * * *', 'Europe/Berlin', 'cache-first'), 'SchedulePreview');
    expect(berlin.nextRuns[0]).toMatchObject({ at: '2026-03-07T01:30:00.000Z', local: '2026-03-07T02:30:00+01:00' });
    expect(renderPreview(await ask('30 2 * * *', 'America/New_York', 'cache-only'))).toBe(NEW_YORK_PREVIEW);
    expect(narrow(await ask('30 2 * * *', 'Europe/Berlin', 'cache-only'), 'SchedulePreview')).toEqual(berlin);
    expect(narrow(await ask('30 2 *', 'America/New_York', 'cache-only'), 'ValidationError').field).toBe('crontab');
  });
});
