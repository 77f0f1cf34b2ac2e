import { z } from "zod";
import { apiKeyInfoSchema, keyNameSchema } from "../../auth/apiKeys";
import { roleSchema } from "../../auth/roles";
import { adminProcedure } from "../../trpc";

export const createKeyInput = z.object({ name: keyNameSchema, role: roleSchema });
export const createKeyOutput = z.object({
  /** The key itself: shown this once, stored only as a hash. */
  key: z.string(),
  info: apiKeyInfoSchema,
});

/** Makes an API key. CONFLICT when a key not revoked has that name. */
export const createKey = adminProcedure
  .input(createKeyInput)
  .output(createKeyOutput)
  .mutation(({ ctx, input }) => ctx.services.keys.create(input.name, input.role));
