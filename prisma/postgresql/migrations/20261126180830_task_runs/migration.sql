-- CreateEnum
CREATE TYPE "RunTrigger" AS ENUM ('SCHEDULE', 'MANUAL');

-- CreateEnum
CREATE TYPE "RunOutcome" AS ENUM ('RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'SKIPPED');

-- CreateEnum
CREATE TYPE "SkipReason" AS ENUM ('OVERLAP', 'MISSED', 'PAYMENT_REQUIRED', 'PLAN_UPGRADE_REQUIRED', 'QUOTA_EXCEEDED');

-- DropIndex
DROP INDEX "Task_status_nextRunAt_idx";

-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "failureStreak" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "lastRunId" TEXT;

-- CreateTable
CREATE TABLE "TaskRun" (
    "id" TEXT NOT NULL,
    "taskId" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "trigger" "RunTrigger" NOT NULL,
    "api" "TaskApi" NOT NULL,
    "query" TEXT NOT NULL,
    "scheduledFor" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "durationMs" INTEGER,
    "outcome" "RunOutcome" NOT NULL,
    "skipReason" "SkipReason",
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "httpStatus" INTEGER,
    "error" TEXT,
    "leaseUntil" TIMESTAMP(3),

    CONSTRAINT "TaskRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TaskRun_taskId_scheduledFor_id_idx" ON "TaskRun"("taskId", "scheduledFor", "id");

-- CreateIndex
CREATE INDEX "TaskRun_outcome_leaseUntil_id_idx" ON "TaskRun"("outcome", "leaseUntil", "id");

-- CreateIndex
CREATE INDEX "TaskRun_finishedAt_idx" ON "TaskRun"("finishedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Task_lastRunId_key" ON "Task"("lastRunId");

-- CreateIndex
CREATE INDEX "Task_status_nextRunAt_id_idx" ON "Task"("status", "nextRunAt", "id");

-- AddForeignKey
ALTER TABLE "TaskRun" ADD CONSTRAINT "TaskRun_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Data: before this migration nothing ran a task, so no row is really in progress
-- (only imports set the flag). With runs recorded the flag means a RUNNING run
-- holds the task, and a flag without one would block deletes forever.
UPDATE "Task" SET "inProgress" = false WHERE "inProgress" = true;
