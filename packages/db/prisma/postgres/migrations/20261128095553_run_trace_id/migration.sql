-- AlterTable
ALTER TABLE "WorkflowRun" ADD COLUMN     "traceId" TEXT;
