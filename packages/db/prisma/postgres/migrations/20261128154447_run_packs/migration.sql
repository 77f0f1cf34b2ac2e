-- CreateTable
CREATE TABLE "WorkflowRunPack" (
    "runId" TEXT NOT NULL,
    "lastSeq" INTEGER NOT NULL,
    "firstSeq" INTEGER NOT NULL,
    "events" BYTEA NOT NULL,
    "spanCount" INTEGER NOT NULL DEFAULT 0,
    "spans" BYTEA,

    CONSTRAINT "WorkflowRunPack_pkey" PRIMARY KEY ("runId","lastSeq")
);

-- AddForeignKey
ALTER TABLE "WorkflowRunPack" ADD CONSTRAINT "WorkflowRunPack_runId_fkey" FOREIGN KEY ("runId") REFERENCES "WorkflowRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;
