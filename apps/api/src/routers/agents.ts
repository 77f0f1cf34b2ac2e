import { getAgent } from "../procedures/agents/get";
import { listAgents } from "../procedures/agents/list";
import { router } from "../trpc";

export const agentsRouter = router({ list: listAgents, get: getAgent });
