import { router } from "../trpc";
import { agentsRouter } from "./agents";
import { chatRouter } from "./chat";
import { healthProcedure } from "./health";
import { keysRouter } from "./keys";
import { runsRouter } from "./runs";
import { workflowsRouter } from "./workflows";

export const appRouter = router({
  health: healthProcedure,
  agents: agentsRouter,
  chat: chatRouter,
  workflows: workflowsRouter,
  runs: runsRouter,
  keys: keysRouter,
});
