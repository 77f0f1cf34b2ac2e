-- AlterTable
ALTER TABLE "WorkflowRun" ADD COLUMN "idempotencyFingerprint" TEXT;

-- CreateTable
CREATE TABLE "ServerInstance" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "heartbeatAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "ServerInstance_heartbeatAt_idx" ON "ServerInstance"("heartbeatAt");

-- CreateIndex
CREATE INDEX "WorkflowRun_status_owner_idx" ON "WorkflowRun"("status", "owner");
