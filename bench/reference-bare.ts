// Reference 1, "the limit of this machine and database": node:http and
// better-sqlite3 prepared statements answering the same JSON as the API, with
// none of its work (no GraphQL, auth, limits, quota or error unions).
// Usage: node --import tsx bench/reference-bare.ts <sqlite file> <port>
import { createServer } from 'node:http';
import Database from 'better-sqlite3';
import { Cron } from 'croner';
import { CANCEL_SQL, describe } from './reference-common.js';

const [file, port] = process.argv.slice(2) as [string, string];
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');

// `enabled` is no column any more: it is status = ACTIVE (1 or 0 here).
const COLUMNS = "id, name, api, query, status, crontab, timezone, status = 'ACTIVE' AS enabled, inProgress, runs";
const byId = db.prepare(`SELECT ${COLUMNS} FROM Task WHERE id = ?`);
const page = db.prepare(
  `SELECT id, name, status FROM Task WHERE accountId = (SELECT accountId FROM Task WHERE id = ?) ORDER BY createdAt DESC, id DESC LIMIT 51`,
);
// nextRunAt is passed on as stored (ISO 8601, "+00:00" where the API writes "Z").
const pageNext = db.prepare(
  `SELECT id, name, status, nextRunAt, crontab FROM Task WHERE accountId = (SELECT accountId FROM Task WHERE id = ?) ORDER BY createdAt DESC, id DESC LIMIT 51`,
);
const del = db.prepare('DELETE FROM Task WHERE id = ? AND inProgress = 0');
const cancel = db.prepare(CANCEL_SQL);

type Row = Record<string, unknown>;
const task = (row: Row | undefined) =>
  row ? { __typename: 'Task', ...row, enabled: row.enabled === 1, inProgress: row.inProgress === 1 } : null;

function answer(op: string, params: URLSearchParams): unknown {
  const ids = (params.get('ids') ?? '').split(',');
  switch (op) {
    case 'hot':
      return { task: task(byId.get(ids[0]) as Row | undefined) };
    case 'aliases':
      return Object.fromEntries(ids.map((id, i) => [`t${i}`, task(byId.get(id) as Row | undefined)]));
    case 'page': {
      const rows = page.all(ids[0]) as Row[];
      return {
        tasks: { edges: rows.slice(0, 50).map((node) => ({ node })), pageInfo: { hasNextPage: rows.length > 50 } },
      };
    }
    case 'pageNext': {
      const rows = pageNext.all(ids[0]) as {
        id: string;
        name: string;
        status: string;
        nextRunAt: string | null;
        crontab: string;
      }[];
      return {
        tasks: {
          edges: rows
            .slice(0, 50)
            .map(({ crontab, ...node }) => ({ node: { ...node, description: describe(crontab) } })),
          pageInfo: { hasNextPage: rows.length > 50 },
        },
      };
    }
    case 'preview': {
      // The naive answer: croner's next runs, no validation, no DST rules of our own.
      const crontab = params.get('c') ?? '';
      const timezone = params.get('z') ?? '';
      const runs = new Cron(crontab, { timezone, paused: true }).nextRuns(5);
      return {
        schedulePreview: {
          __typename: 'SchedulePreview',
          description: describe(crontab),
          nextRuns: runs.map((at) => ({ at })),
        },
      };
    }
    case 'delete':
      return { deleteTask: del.run(ids[0]).changes === 1 ? { deletedId: ids[0] } : null };
    case 'cancel':
      return { cancelSchedule: (cancel.get(ids[0]) as Row | undefined) ?? null };
    default:
      return null;
  }
}

createServer((req, res) => {
  // /<op>?ids=a,b,c (or ?c=<crontab>&z=<zone>) — the body is read and ignored, as the API reads its own.
  req.resume();
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = JSON.stringify({ data: answer(url.pathname.slice(1), url.searchParams) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
