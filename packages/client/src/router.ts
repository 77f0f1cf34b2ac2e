import type {
  AnyRouter,
  TRPC_ERROR_CODE_KEY,
  TRPC_ERROR_CODE_NUMBER,
  TRPCBuiltRouter,
  TRPCMutationProcedure,
  TRPCQueryProcedure,
  TRPCSubscriptionProcedure,
} from "@trpc/server";
import type { AppRouter as ServerRouter } from "@workflows/api/router";

/** One problem with an input, as the API reports it in `error.data.zodIssues`. */
export type ValidationIssue = { path: (string | number)[]; message: string; code: string };

/** The shape of every error the API sends (`TRPCClientError#shape`; `error.data` is its `data`). */
export type ErrorShape = {
  message: string;
  code: TRPC_ERROR_CODE_NUMBER;
  data: {
    zodIssues: ValidationIssue[] | null;
    code: TRPC_ERROR_CODE_KEY;
    httpStatus: number;
    path?: string;
    /** With TOO_MANY_REQUESTS: when the next call will pass. */
    retryAfterMs?: number;
  };
};

type ServerErrorShape = ServerRouter["_def"]["_config"]["$types"]["errorShape"];
type Agrees<T extends true> = T;
/** Fails to type-check if the server's error shape and the one declared above part ways. */
type _ErrorShapeAgrees = Agrees<[ServerErrorShape] extends [ErrorShape] ? ([ErrorShape] extends [ServerErrorShape] ? true : false) : false>;

/**
 * A router record with every procedure kept (input, output) and the error shape replaced by
 * `ErrorShape`; procedure meta (the server's access rules) is left out: clients never see it. Written without a helper alias around the server's types on purpose: declaration
 * files then spell each procedure out instead of naming a server module.
 */
type ClientEntry<T> =
  T extends TRPCQueryProcedure<infer D>
    ? TRPCQueryProcedure<{ input: D["input"]; output: D["output"]; meta: object; errorShape: ErrorShape }>
    : T extends TRPCMutationProcedure<infer D>
      ? TRPCMutationProcedure<{ input: D["input"]; output: D["output"]; meta: object; errorShape: ErrorShape }>
      : T extends TRPCSubscriptionProcedure<infer D>
        ? TRPCSubscriptionProcedure<{ input: D["input"]; output: D["output"]; meta: object; errorShape: ErrorShape }>
        : { [K in keyof T]: ClientEntry<T[K]> };

/** Returns nothing at run time: only its return type matters, the router as a client sees it. */
function clientRouterOf<R extends AnyRouter>(): TRPCBuiltRouter<
  { ctx: object; meta: object; errorShape: ErrorShape; transformer: R["_def"]["_config"]["$types"]["transformer"] },
  { [K in keyof R["_def"]["record"]]: ClientEntry<R["_def"]["record"][K]> }
> {
  return undefined as never;
}

// A value, not a type alias, so that `tsc --declaration` writes the whole type out (every procedure
// with its input and output) and the published .d.ts needs only @trpc/server, not the server's code.
const _clientRouter = clientRouterOf<ServerRouter>();

/**
 * The Workflows API's router type as clients use it: every procedure with its input and output,
 * without the server's context (services, database, Agents SDK), which clients never see.
 */
export type AppRouter = typeof _clientRouter;
