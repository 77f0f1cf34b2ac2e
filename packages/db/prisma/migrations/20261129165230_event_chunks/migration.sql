-- A run's live events become one row per recorder batch (WorkflowRunEventChunk) instead of one row per
-- event. Event rows already stored become chunks of one event each, so nothing recorded is lost.

-- CreateTable
CREATE TABLE "WorkflowRunEventChunk" (
    "runId" TEXT NOT NULL,
    "lastSeq" INTEGER NOT NULL,
    "firstSeq" INTEGER NOT NULL,
    "events" TEXT NOT NULL,

    PRIMARY KEY ("runId", "lastSeq"),
    CONSTRAINT "WorkflowRunEventChunk_runId_fkey" FOREIGN KEY ("runId") REFERENCES "WorkflowRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CopyRows
INSERT INTO "WorkflowRunEventChunk" ("runId", "lastSeq", "firstSeq", "events")
SELECT "runId", "seq", "seq", '[' || "payload" || ']' FROM "WorkflowRunEvent";

-- DropTable
PRAGMA foreign_keys=off;
DROP TABLE "WorkflowRunEvent";
PRAGMA foreign_keys=on;
