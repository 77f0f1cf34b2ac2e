-- CreateTable
CREATE TABLE "WorkflowRunEventPack" (
    "runId" TEXT NOT NULL,
    "lastSeq" INTEGER NOT NULL,
    "firstSeq" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "WorkflowRunEventPack_pkey" PRIMARY KEY ("runId","lastSeq")
);

-- AddForeignKey
ALTER TABLE "WorkflowRunEventPack" ADD CONSTRAINT "WorkflowRunEventPack_runId_fkey" FOREIGN KEY ("runId") REFERENCES "WorkflowRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;
