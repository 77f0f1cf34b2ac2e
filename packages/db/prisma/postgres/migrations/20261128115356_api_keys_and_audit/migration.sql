-- AlterTable
ALTER TABLE "WorkflowRun" ADD COLUMN     "createdBy" TEXT;

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ApiKey_name_idx" ON "ApiKey"("name");

-- CreateIndex
CREATE INDEX "WorkflowRun_createdBy_createdAt_id_idx" ON "WorkflowRun"("createdBy", "createdAt" DESC, "id" DESC);
