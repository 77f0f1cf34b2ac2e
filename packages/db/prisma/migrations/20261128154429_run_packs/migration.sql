-- CreateTable
CREATE TABLE "WorkflowRunPack" (
    "runId" TEXT NOT NULL,
    "lastSeq" INTEGER NOT NULL,
    "firstSeq" INTEGER NOT NULL,
    "events" BLOB NOT NULL,
    "spanCount" INTEGER NOT NULL DEFAULT 0,
    "spans" BLOB,

    PRIMARY KEY ("runId", "lastSeq"),
    CONSTRAINT "WorkflowRunPack_runId_fkey" FOREIGN KEY ("runId") REFERENCES "WorkflowRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
