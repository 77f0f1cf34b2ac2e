-- CreateTable
CREATE TABLE "WorkflowRun" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "workflowKey" TEXT NOT NULL,
    "versionHash" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "input" TEXT NOT NULL,
    "finalOutput" TEXT,
    "structuredOutput" TEXT,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "conversationId" TEXT,
    "idempotencyKey" TEXT,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "inputTokens" INTEGER NOT NULL DEFAULT 0,
    "outputTokens" INTEGER NOT NULL DEFAULT 0,
    "totalTokens" INTEGER NOT NULL DEFAULT 0,
    "lastSeq" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL,
    "startedAt" DATETIME,
    "endedAt" DATETIME
);

-- CreateTable
CREATE TABLE "WorkflowRunStep" (
    "runId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "agentKey" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "input" TEXT,
    "output" TEXT,
    "structuredOutput" TEXT,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "skipReason" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "inputTokens" INTEGER NOT NULL DEFAULT 0,
    "outputTokens" INTEGER NOT NULL DEFAULT 0,
    "totalTokens" INTEGER NOT NULL DEFAULT 0,
    "responseId" TEXT,
    "startedAt" DATETIME,
    "endedAt" DATETIME,

    PRIMARY KEY ("runId", "index"),
    CONSTRAINT "WorkflowRunStep_runId_fkey" FOREIGN KEY ("runId") REFERENCES "WorkflowRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "WorkflowRunEvent" (
    "runId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "stepIndex" INTEGER,
    "payload" TEXT NOT NULL,
    "at" DATETIME NOT NULL,

    PRIMARY KEY ("runId", "seq"),
    CONSTRAINT "WorkflowRunEvent_runId_fkey" FOREIGN KEY ("runId") REFERENCES "WorkflowRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "TraceSpan" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "runId" TEXT NOT NULL,
    "stepIndex" INTEGER,
    "traceId" TEXT NOT NULL,
    "spanId" TEXT NOT NULL,
    "parentId" TEXT,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "startedAt" TEXT,
    "endedAt" TEXT,
    "error" TEXT,
    "data" TEXT NOT NULL,
    CONSTRAINT "TraceSpan_runId_fkey" FOREIGN KEY ("runId") REFERENCES "WorkflowRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ConversationItem" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "conversationId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "item" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "WorkflowRun_idempotencyKey_key" ON "WorkflowRun"("idempotencyKey");

-- CreateIndex
CREATE INDEX "WorkflowRun_workflowKey_status_createdAt_id_idx" ON "WorkflowRun"("workflowKey", "status", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "WorkflowRun_status_createdAt_id_idx" ON "WorkflowRun"("status", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "WorkflowRun_createdAt_id_idx" ON "WorkflowRun"("createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "WorkflowRun_conversationId_idx" ON "WorkflowRun"("conversationId");

-- CreateIndex
CREATE INDEX "TraceSpan_runId_id_idx" ON "TraceSpan"("runId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "ConversationItem_conversationId_position_key" ON "ConversationItem"("conversationId", "position");
