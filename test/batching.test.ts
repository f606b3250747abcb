// SQL statement counts, from Prisma's own query log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/client/gql.js';
import { DeleteTasksDocument } from '../src/generated/client/graphql.js';
import { createHarness, type Harness, narrow } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { accountMax: 100_000 } });
});
afterAll(() => h.close());

// Prisma's `main`.`Task` (SQLite) or "<schema>"."Task" (PostgreSQL), or the
// SQLite hot-read statement's plain Task.
const readsTasks = (sql: string) => /^\s*SELECT\b.*\b(FROM|JOIN)\s+([`"]\w+[`"]\.)?[`"]?Task[`"]?\s/s.test(sql);

describe('per-request DataLoader', () => {
  it('answers 25 aliased task(id:) fields with one SQL query for tasks', async () => {
    const { id, key } = await h.account();
    const ids = await h.tasks(
      id,
      Array.from({ length: 25 }, () => ({})),
    );
    const fields = ids.map((taskId, i) => `t${i}: task(id: "${taskId}") { __typename ... on Task { id name } }`);
    const sql = await h.sqlDuring(async () => {
      // Built at run time, so a plain string rather than a codegen document.
      const data = await h.gql<Record<string, { id: string }>, object>(
        `query TwentyFive { ${fields.join('\n')} }`,
        {},
        key,
      );
      expect(Object.values(data).map((t) => t.id)).toEqual(ids);
    });
    expect(sql.filter(readsTasks)).toHaveLength(1);
    // Plus authentication: two statements for the whole request.
    expect(sql).toHaveLength(2);
  });

  it('reads the same id once per request, and missing ids in the same query', async () => {
    const { id, key } = await h.account();
    const taskId = await h.task(id);
    const sql = await h.sqlDuring(() =>
      h.gql(
        graphql(`query Repeated($id: ID!) {
          a: task(id: $id) { __typename } b: task(id: $id) { __typename } c: task(id: "missing") { __typename }
        }`),
        { id: taskId },
        key,
      ),
    );
    expect(sql.filter(readsTasks)).toHaveLength(1);
  });
});

describe('deleteTasks', () => {
  async function statementsFor(n: number) {
    const { id, key } = await h.account({ quotaLimit: 10_000 });
    const ids = await h.tasks(
      id,
      Array.from({ length: n }, () => ({})),
    );
    return h.sqlDuring(async () => {
      const { deleteTasks } = await h.gql(DeleteTasksDocument, { ids }, key);
      expect(narrow(deleteTasks, 'DeleteTasksSuccess').deletedIds).toHaveLength(n);
    });
  }

  it('uses a constant number of SQL statements, however many ids', async () => {
    const ten = await statementsFor(10);
    const thousand = await statementsFor(1000);
    // auth, lock the account, read the tasks, consume quota, delete, commit.
    expect(ten.filter((s) => !/^(BEGIN|COMMIT)\b/.test(s))).toHaveLength(5);
    expect(thousand.filter((s) => s.startsWith('DELETE'))).toHaveLength(1);
    expect(thousand).toHaveLength(ten.length);
  });
});
