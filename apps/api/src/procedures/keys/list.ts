import { z } from "zod";
import { apiKeyInfoSchema } from "../../auth/apiKeys";
import { adminProcedure } from "../../trpc";

export const listKeysOutput = z.array(apiKeyInfoSchema);

/** Every key with its role and dates, revoked ones included; never a secret. */
export const listKeys = adminProcedure.output(listKeysOutput).query(({ ctx }) => ctx.services.keys.list());
