import { approveRun } from "../procedures/runs/approve";
import { cancelRun } from "../procedures/runs/cancel";
import { deleteRunProcedure } from "../procedures/runs/delete";
import { runEvents } from "../procedures/runs/events";
import { getRun } from "../procedures/runs/get";
import { listRuns } from "../procedures/runs/list";
import { resumeRunProcedure } from "../procedures/runs/resume";
import { router } from "../trpc";

export const runsRouter = router({ list: listRuns, get: getRun, events: runEvents, cancel: cancelRun, resume: resumeRunProcedure, approve: approveRun, delete: deleteRunProcedure });
