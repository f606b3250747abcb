// Reference 2, "the framework's own cost": graphql-yoga and Pothos with the
// same Task type, each resolver one better-sqlite3 prepared statement. No auth,
// limits, quota, error unions or Prisma.
// Usage: node --import tsx bench/reference-yoga.ts <sqlite file> <port>
import { createServer } from 'node:http';
import SchemaBuilder from '@pothos/core';
import Database from 'better-sqlite3';
import { createYoga } from 'graphql-yoga';

const [file, port] = process.argv.slice(2) as [string, string];
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');

interface TaskRow {
  id: string;
  name: string;
  api: string;
  query: string;
  status: string;
  crontab: string;
  timezone: string;
  enabled: number;
  inProgress: number;
  runs: number;
}

const byId = db.prepare<[string], TaskRow>(
  'SELECT id, name, api, query, status, crontab, timezone, enabled, inProgress, runs FROM Task WHERE id = ?',
);
const page = db.prepare<[string], TaskRow>(
  'SELECT * FROM Task WHERE accountId = (SELECT accountId FROM Task WHERE id = ?) ORDER BY createdAt DESC, id DESC LIMIT 50',
);
const del = db.prepare('DELETE FROM Task WHERE id = ? AND inProgress = 0');
const cancel = db.prepare<[string], { status: string }>(
  "UPDATE Task SET status = 'CANCELLED', enabled = 0 WHERE id = ? AND status IN ('ACTIVE','PAUSED','CREATE_PENDING','ERROR') RETURNING status",
);

const builder = new SchemaBuilder<{ DefaultFieldNullability: false }>({ defaultFieldNullability: false });
const Task = builder.objectRef<TaskRow>('Task').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    api: t.exposeString('api'),
    query: t.exposeString('query'),
    status: t.exposeString('status'),
    crontab: t.exposeString('crontab'),
    timezone: t.exposeString('timezone'),
    enabled: t.boolean({ resolve: (r) => r.enabled === 1 }),
    inProgress: t.boolean({ resolve: (r) => r.inProgress === 1 }),
    runs: t.exposeInt('runs'),
  }),
});
builder.queryType({
  fields: (t) => ({
    task: t.field({
      type: Task,
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: (_, { id }) => byId.get(String(id)) ?? null,
    }),
    tasks: t.field({
      type: [Task],
      args: { after: t.arg.id({ required: true }) },
      resolve: (_, { after }) => page.all(String(after)),
    }),
  }),
});
builder.mutationType({
  fields: (t) => ({
    deleteTask: t.id({
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: (_, { id }) => (del.run(String(id)).changes === 1 ? String(id) : null),
    }),
    cancelSchedule: t.string({
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: (_, { id }) => cancel.get(String(id))?.status ?? null,
    }),
  }),
});

const yoga = createYoga({ schema: builder.toSchema(), graphiql: false, logging: false });
createServer(yoga).listen(Number(port), '127.0.0.1', () => console.log('ready'));
