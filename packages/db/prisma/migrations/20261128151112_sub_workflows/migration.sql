-- AlterTable
ALTER TABLE "WorkflowRun" ADD COLUMN "parentRunId" TEXT;
ALTER TABLE "WorkflowRun" ADD COLUMN "parentStepIndex" INTEGER;

-- CreateIndex
CREATE INDEX "WorkflowRun_parentRunId_createdAt_idx" ON "WorkflowRun"("parentRunId", "createdAt");
