// Bulk import for operators: accounts with their plain API keys (stored
// hashed) and their tasks in the public Task API's JSON shape. The whole file
// is validated first; one bad entry rejects the file and nothing is written.
import { z } from 'zod';
import type { Database } from '../db/client.js';
import type { Billing, Frequency, Plan, ScheduleStatus, TaskApi } from '../db/models.js';
import { insertAccount, insertApiKey } from './accounts.js';
import { hashApiKey } from './api-keys.js';
import { ValidationError } from './errors.js';
import { idProblem, MAX_API_KEY_LENGTH, MAX_NAME_LENGTH } from './input-limits.js';
import { nextRunAfter } from './tasks/next-run.js';
import { resolveCrontab, validateName, validateQuery, validateTimezone } from './tasks/validate.js';

const PLANS = ['FREE', 'BASIC', 'GROWTH', 'SCALE'] as const satisfies readonly Plan[];
const BILLINGS = ['OK', 'UNPAID'] as const satisfies readonly Billing[];
const APIS = ['SCREENSHOT', 'SCREENCAST', 'PDF', 'SCRAPE'] as const satisfies readonly TaskApi[];
const FREQUENCIES = [
  'EVERY_MINUTE',
  'EVERY_HOUR',
  'EVERY_DAY',
  'EVERY_MONTH',
  'CUSTOM',
] as const satisfies readonly Frequency[];
const STATUSES = [
  'ACTIVE',
  'PAUSED',
  'CANCELLED',
  'ERROR',
  'CREATE_PENDING',
  'NON_EXISTING',
] as const satisfies readonly ScheduleStatus[];

/** `create-pending`, `Create_Pending`, `CREATE PENDING` → `CREATE_PENDING`; `canceled` → `CANCELLED`. */
function spelling<const T extends readonly string[]>(values: T) {
  return z.string().transform((raw, ctx) => {
    let v = raw
      .trim()
      .toUpperCase()
      .replace(/[-\s]+/g, '_');
    if (v === 'CANCELED') v = 'CANCELLED';
    if ((values as readonly string[]).includes(v)) return v as T[number];
    ctx.addIssue({ code: 'custom', message: `must be one of ${values.map((x) => x.toLowerCase()).join(', ')}` });
    return z.NEVER;
  });
}

const unixSeconds = z
  .number()
  .int()
  .nonnegative()
  .transform((s) => new Date(s * 1000));

const TaskEntry = z.object({
  id: z
    .string()
    .trim()
    .min(1)
    .superRefine((id, ctx) => {
      const problem = idProblem(id);
      if (problem) ctx.addIssue({ code: 'custom', message: `the id ${problem}` });
    }),
  name: z.string(),
  api: spelling(APIS),
  query: z.string(),
  frequency: spelling(FREQUENCIES),
  crontab: z.string().nullish(),
  timezone: z.string().default('Etc/UTC'),
  enabled: z.boolean().default(true),
  created: unixSeconds.optional(),
  last_run: unixSeconds.nullish(),
  runs: z.number().int().nonnegative().default(0),
  status: spelling(STATUSES).default('ACTIVE'),
  in_progress: z.boolean().default(false),
});

const AccountEntry = z.object({
  name: z.string().trim().min(1).max(MAX_NAME_LENGTH),
  plan: spelling(PLANS),
  billing: spelling(BILLINGS).default('OK'),
  quota: z.number().int().nonnegative(),
  quota_used: z.number().int().nonnegative().default(0),
  api_keys: z.array(z.string().min(16, 'API keys must be at least 16 characters').max(MAX_API_KEY_LENGTH)).default([]),
  tasks: z.array(z.unknown()).default([]),
});

const ImportFile = z.object({ accounts: z.array(z.unknown()) });

export class ImportRejected extends Error {
  constructor(readonly problems: string[]) {
    super(`Import rejected, nothing was loaded:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface ImportReport {
  accounts: { id: string; name: string; apiKeys: number; tasks: number }[];
  apiKeys: number;
  tasks: number;
}

function issues(where: string, error: z.ZodError): string[] {
  return error.issues.map(
    (i) => `${where}${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`,
  );
}

/** Validates and loads `data` in one transaction; throws ImportRejected naming every bad entry. */
export async function importData(db: Database, data: unknown, now: number = Date.now()): Promise<ImportReport> {
  const problems: string[] = [];
  const file = ImportFile.safeParse(data);
  if (!file.success) throw new ImportRejected(issues('file', file.error));

  const seenTaskIds = new Map<string, string>();
  const seenKeys = new Map<string, string>();
  const accounts = file.data.accounts.flatMap((rawAccount, a) => {
    const where = `accounts[${a}]`;
    const parsed = AccountEntry.safeParse(rawAccount);
    if (!parsed.success) {
      problems.push(...issues(where, parsed.error));
      return [];
    }
    const account = parsed.data;
    const label = `${where} (${JSON.stringify(account.name)})`;
    account.api_keys.forEach((key, k) => {
      const other = seenKeys.get(key);
      if (other) problems.push(`${label}.api_keys[${k}]: the same key is also given at ${other}`);
      seenKeys.set(key, `${label}.api_keys[${k}]`);
    });
    const tasks = account.tasks.flatMap((rawTask, t) => {
      const at = `${label}.tasks[${t}]`;
      const task = TaskEntry.safeParse(rawTask);
      if (!task.success) {
        problems.push(...issues(at, task.error));
        return [];
      }
      const v = task.data;
      const taskLabel = `${at} (id ${JSON.stringify(v.id)})`;
      const other = seenTaskIds.get(v.id);
      if (other) problems.push(`${taskLabel}: the same id is also given at ${other}`);
      seenTaskIds.set(v.id, taskLabel);
      try {
        const name = validateName(v.name);
        const query = validateQuery(v.query);
        const timezone = validateTimezone(v.timezone);
        const crontab = resolveCrontab(v.frequency, v.crontab, timezone, now);
        // The public API's `enabled: false` is a schedule that does not run.
        const status = v.status === 'ACTIVE' && !v.enabled ? ('PAUSED' as const) : v.status;
        return [
          {
            id: v.id,
            name,
            api: v.api,
            query,
            frequency: v.frequency,
            crontab,
            timezone,
            status,
            nextRunAt: nextRunAfter({ crontab, timezone, status }, now),
            // A run in progress in the exporting system is not one here: a
            // task is in progress only while a run of ours holds it.
            inProgress: false,
            createdAt: v.created ?? new Date(now),
            lastRunAt: v.last_run ?? null,
            runs: v.runs,
          },
        ];
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        problems.push(`${taskLabel}.${e.field}: ${e.message}`);
        return [];
      }
    });
    return [{ account, tasks }];
  });

  // Conflicts with what the database already holds.
  const [takenTasks, takenKeys] = await Promise.all([
    db.read.task.findMany({ where: { id: { in: [...seenTaskIds.keys()] } }, select: { id: true } }),
    db.read.apiKey.findMany({
      where: { keyHash: { in: [...seenKeys.keys()].map(hashApiKey) } },
      select: { keyHash: true },
    }),
  ]);
  for (const { id } of takenTasks) problems.push(`${seenTaskIds.get(id)}: a task with this id already exists`);
  const takenHashes = new Set(takenKeys.map((k) => k.keyHash));
  for (const [key, where] of seenKeys)
    if (takenHashes.has(hashApiKey(key))) problems.push(`${where}: this API key is already in use`);

  if (problems.length > 0) throw new ImportRejected(problems);

  return db.transaction(async (tx) => {
    const report: ImportReport = { accounts: [], apiKeys: 0, tasks: 0 };
    for (const { account, tasks } of accounts) {
      const id = await insertAccount(
        tx,
        {
          name: account.name,
          plan: account.plan,
          billing: account.billing,
          quotaLimit: account.quota,
          quotaUsed: account.quota_used,
        },
        now,
      );
      for (const key of account.api_keys) await insertApiKey(tx, id, key);
      if (tasks.length > 0) await tx.task.createMany({ data: tasks.map((t) => ({ ...t, accountId: id })) });
      report.accounts.push({ id, name: account.name, apiKeys: account.api_keys.length, tasks: tasks.length });
      report.apiKeys += account.api_keys.length;
      report.tasks += tasks.length;
    }
    return report;
  });
}
