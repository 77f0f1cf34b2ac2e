-- AlterTable
ALTER TABLE "WorkflowRun" ADD COLUMN "owner" TEXT;
