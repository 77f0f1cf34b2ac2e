-- AlterTable
ALTER TABLE "WorkflowRun" ADD COLUMN "createdBy" TEXT;

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "lastUsedAt" DATETIME,
    "revokedAt" DATETIME
);

-- CreateIndex
CREATE INDEX "ApiKey_name_idx" ON "ApiKey"("name");

-- CreateIndex
CREATE INDEX "WorkflowRun_createdBy_createdAt_id_idx" ON "WorkflowRun"("createdBy", "createdAt" DESC, "id" DESC);
