-- CreateTable
CREATE TABLE "WorkflowRunApproval" (
    "runId" TEXT NOT NULL,
    "approvalId" TEXT NOT NULL,
    "stepIndex" INTEGER NOT NULL,
    "agentKey" TEXT NOT NULL,
    "toolName" TEXT NOT NULL,
    "callId" TEXT NOT NULL,
    "arguments" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "decidedBy" TEXT,
    "requestedAt" DATETIME NOT NULL,
    "deadlineAt" DATETIME,
    "decidedAt" DATETIME,

    PRIMARY KEY ("runId", "approvalId"),
    CONSTRAINT "WorkflowRunApproval_runId_fkey" FOREIGN KEY ("runId") REFERENCES "WorkflowRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "WorkflowRunApproval_status_deadlineAt_idx" ON "WorkflowRunApproval"("status", "deadlineAt");
