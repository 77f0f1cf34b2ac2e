import { getWorkflow } from "../procedures/workflows/get";
import { listWorkflows } from "../procedures/workflows/list";
import { runWorkflow } from "../procedures/workflows/run";
import { runWorkflowStream } from "../procedures/workflows/runStream";
import { router } from "../trpc";

export const workflowsRouter = router({ list: listWorkflows, get: getWorkflow, run: runWorkflow, runStream: runWorkflowStream });
