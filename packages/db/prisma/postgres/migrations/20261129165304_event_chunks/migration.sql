-- A run's live events become one row per recorder batch (WorkflowRunEventChunk) instead of one row per
-- event. Event rows already stored become chunks of one event each, so nothing recorded is lost.

-- CreateTable
CREATE TABLE "WorkflowRunEventChunk" (
    "runId" TEXT NOT NULL,
    "lastSeq" INTEGER NOT NULL,
    "firstSeq" INTEGER NOT NULL,
    "events" TEXT NOT NULL,

    CONSTRAINT "WorkflowRunEventChunk_pkey" PRIMARY KEY ("runId","lastSeq")
);

-- AddForeignKey
ALTER TABLE "WorkflowRunEventChunk" ADD CONSTRAINT "WorkflowRunEventChunk_runId_fkey" FOREIGN KEY ("runId") REFERENCES "WorkflowRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CopyRows
INSERT INTO "WorkflowRunEventChunk" ("runId", "lastSeq", "firstSeq", "events")
SELECT "runId", "seq", "seq", '[' || "payload"::text || ']' FROM "WorkflowRunEvent";

-- DropForeignKey
ALTER TABLE "WorkflowRunEvent" DROP CONSTRAINT "WorkflowRunEvent_runId_fkey";

-- DropTable
DROP TABLE "WorkflowRunEvent";
