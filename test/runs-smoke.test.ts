import { afterAll, beforeAll, expect, it } from 'vitest';
import { RunTaskDocument, TaskRunsDocument } from '../src/generated/client/graphql.js';
import { type Executor, startExecutor } from './helpers/executor.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';

let h: Harness;
let ex: Executor;
beforeAll(async () => {
  ex = await startExecutor();
  h = await createHarness({
    runs: { executorUrl: ex.url, executorSecret: ex.secret, retryBaseMs: 5, timeoutMs: 500 },
    dispatcher: true,
  });
});
afterAll(async () => {
  await h.close();
  await ex.close();
});

it('runs a due task and records it', async () => {
  const a = await h.account();
  const id = await h.task(a.id);
  const task = await h.db.read.task.findUniqueOrThrow({ where: { id } });
  h.clock.ms = task.nextRunAt!.getTime() + 200;
  const pass = await h.dispatcher!.tick();
  expect(pass.started).toBe(1);
  await h.dispatcher!.idle();
  expect(ex.deliveries).toHaveLength(1);
  expect(ex.deliveries[0]).toMatchObject({ signatureValid: true, attempt: 1, taskId: id });
  const data = await h.gql(TaskRunsDocument, { id }, a.key);
  const t = narrow(data.task, 'Task');
  expect(t.runs).toBe(1);
  expect(t.inProgress).toBe(false);
  expect(t.lastRun?.outcome).toBe('SUCCEEDED');
  expect(t.runHistory.edges.map((e) => e.node.outcome)).toEqual(['SUCCEEDED']);
  expect(new Date(t.nextRunAt!).getTime()).toBeGreaterThan(h.clock.ms);

  ex.status(500, 'boom '.repeat(200));
  const run = narrow((await h.gql(RunTaskDocument, { id }, a.key)).runTask, 'RunTaskSuccess');
  expect(run.run.outcome).toBe('RUNNING');
  await h.dispatcher!.idle();
  const after = narrow((await h.gql(TaskRunsDocument, { id }, a.key)).task, 'Task');
  expect(after.lastRun).toMatchObject({ outcome: 'FAILED', attempts: 3, httpStatus: 500, trigger: 'MANUAL' });
  expect(after.lastRun!.error!.length).toBeLessThanOrEqual(200);
  expect(new Set(ex.deliveries.slice(1).map((d) => d.runId)).size).toBe(1);
  expect(after.consecutiveFailures).toBe(1);
});
