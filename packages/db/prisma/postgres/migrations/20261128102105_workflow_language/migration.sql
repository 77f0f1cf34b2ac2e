-- AlterTable
ALTER TABLE "WorkflowRunStep" ADD COLUMN     "iteration" INTEGER,
ADD COLUMN     "stage" TEXT;
