-- AlterTable
ALTER TABLE "WorkflowRunStep" ADD COLUMN "iteration" INTEGER;
ALTER TABLE "WorkflowRunStep" ADD COLUMN "stage" TEXT;
