-- CreateTable
CREATE TABLE "TaskRun" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "taskId" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "api" TEXT NOT NULL,
    "query" TEXT NOT NULL,
    "scheduledFor" DATETIME NOT NULL,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    "durationMs" INTEGER,
    "outcome" TEXT NOT NULL,
    "skipReason" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "httpStatus" INTEGER,
    "error" TEXT,
    "leaseUntil" DATETIME,
    CONSTRAINT "TaskRun_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Task" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "api" TEXT NOT NULL,
    "query" TEXT NOT NULL,
    "frequency" TEXT NOT NULL,
    "crontab" TEXT NOT NULL,
    "timezone" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'ACTIVE',
    "inProgress" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastRunAt" DATETIME,
    "runs" INTEGER NOT NULL DEFAULT 0,
    "version" INTEGER NOT NULL DEFAULT 1,
    "nextRunAt" DATETIME,
    "failureStreak" INTEGER NOT NULL DEFAULT 0,
    "lastRunId" TEXT,
    CONSTRAINT "Task_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Task" ("accountId", "api", "createdAt", "crontab", "frequency", "id", "inProgress", "lastRunAt", "name", "nextRunAt", "query", "runs", "status", "timezone", "version") SELECT "accountId", "api", "createdAt", "crontab", "frequency", "id", "inProgress", "lastRunAt", "name", "nextRunAt", "query", "runs", "status", "timezone", "version" FROM "Task";
DROP TABLE "Task";
ALTER TABLE "new_Task" RENAME TO "Task";
CREATE UNIQUE INDEX "Task_lastRunId_key" ON "Task"("lastRunId");
CREATE INDEX "Task_accountId_createdAt_id_idx" ON "Task"("accountId", "createdAt", "id");
CREATE INDEX "Task_status_nextRunAt_id_idx" ON "Task"("status", "nextRunAt", "id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "TaskRun_taskId_scheduledFor_id_idx" ON "TaskRun"("taskId", "scheduledFor", "id");

-- CreateIndex
CREATE INDEX "TaskRun_outcome_leaseUntil_id_idx" ON "TaskRun"("outcome", "leaseUntil", "id");

-- CreateIndex
CREATE INDEX "TaskRun_finishedAt_idx" ON "TaskRun"("finishedAt");

-- Data: before this migration nothing ran a task, so no row is really in progress
-- (only imports set the flag). With runs recorded the flag means a RUNNING run
-- holds the task, and a flag without one would block deletes forever.
UPDATE "Task" SET "inProgress" = 0 WHERE "inProgress" = 1;
