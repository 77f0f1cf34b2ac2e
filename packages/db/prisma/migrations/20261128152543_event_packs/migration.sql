-- CreateTable
CREATE TABLE "WorkflowRunEventPack" (
    "runId" TEXT NOT NULL,
    "lastSeq" INTEGER NOT NULL,
    "firstSeq" INTEGER NOT NULL,
    "data" BLOB NOT NULL,

    PRIMARY KEY ("runId", "lastSeq"),
    CONSTRAINT "WorkflowRunEventPack_runId_fkey" FOREIGN KEY ("runId") REFERENCES "WorkflowRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
