// Reference 2, "the framework's own cost": graphql-yoga and Pothos with the
// same Task type, each resolver one better-sqlite3 prepared statement. No auth,
// limits, quota, error unions or Prisma.
// Usage: node --import tsx bench/reference-yoga.ts <sqlite file> <port>
import { createServer } from 'node:http';
import SchemaBuilder from '@pothos/core';
import Database from 'better-sqlite3';
import { Cron } from 'croner';
import { createYoga } from 'graphql-yoga';
import { CANCEL_SQL, describe } from './reference-common.js';

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
  inProgress: number;
  runs: number;
  /** As stored: ISO 8601 with "+00:00", or null. */
  nextRunAt: string | null;
}

const byId = db.prepare<[string], TaskRow>(
  'SELECT id, name, api, query, status, crontab, timezone, inProgress, runs, nextRunAt FROM Task WHERE id = ?',
);
const page = db.prepare<[string], TaskRow>(
  'SELECT * FROM Task WHERE accountId = (SELECT accountId FROM Task WHERE id = ?) ORDER BY createdAt DESC, id DESC LIMIT 50',
);
const del = db.prepare('DELETE FROM Task WHERE id = ? AND inProgress = 0');
const cancel = db.prepare<[string], { status: string }>(CANCEL_SQL);

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
    enabled: t.boolean({ resolve: (r) => r.status === 'ACTIVE' }),
    inProgress: t.boolean({ resolve: (r) => r.inProgress === 1 }),
    runs: t.exposeInt('runs'),
    nextRunAt: t.exposeString('nextRunAt', { nullable: true }),
    description: t.string({ resolve: (r) => describe(r.crontab) }),
  }),
});

interface Preview {
  description: string;
  nextRuns: Date[];
}
const PlannedRun = builder.objectRef<Date>('PlannedRun').implement({
  fields: (t) => ({ at: t.string({ resolve: (d) => d.toISOString() }) }),
});
const SchedulePreview = builder.objectRef<Preview>('SchedulePreview').implement({
  fields: (t) => ({
    description: t.exposeString('description'),
    nextRuns: t.field({ type: [PlannedRun], resolve: (p) => p.nextRuns }),
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
    // The framework plus a library's naive answer: cronstrue's words and
    // croner's next runs, no validation and no DST rules of our own.
    schedulePreview: t.field({
      type: SchedulePreview,
      args: { crontab: t.arg.string({ required: true }), timezone: t.arg.string({ required: true }) },
      resolve: (_, { crontab, timezone }) => ({
        description: describe(crontab),
        nextRuns: new Cron(crontab, { timezone, paused: true }).nextRuns(5),
      }),
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
