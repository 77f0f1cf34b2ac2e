import { createKey } from "../procedures/keys/create";
import { listKeys } from "../procedures/keys/list";
import { revokeKey } from "../procedures/keys/revoke";
import { router } from "../trpc";

export const keysRouter = router({ create: createKey, list: listKeys, revoke: revokeKey });
