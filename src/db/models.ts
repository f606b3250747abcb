// The model types and enums the rest of the code uses. Both generated clients
// (SQLite and PostgreSQL) come from the same prisma/models.prisma, so their
// types are the same; the SQLite client's are re-exported here, and the check
// below fails the build if the two ever disagree.
import type * as Pg from '../generated/prisma/postgresql/client.js';
import type { Account, ApiKey, Task, TaskRun } from '../generated/prisma/sqlite/client.js';

export type { Account, ApiKey, Prisma, Task, TaskRun } from '../generated/prisma/sqlite/client.js';
export {
  Billing,
  Frequency,
  Plan,
  RunOutcome,
  RunTrigger,
  ScheduleStatus,
  SkipReason,
  TaskApi,
} from '../generated/prisma/sqlite/enums.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const SAME_MODELS_ON_EVERY_PROVIDER: [
  Same<Account, Pg.Account>,
  Same<ApiKey, Pg.ApiKey>,
  Same<Task, Pg.Task>,
  Same<TaskRun, Pg.TaskRun>,
  Same<import('../generated/prisma/sqlite/enums.js').ScheduleStatus, Pg.ScheduleStatus>,
] = [true, true, true, true, true];
