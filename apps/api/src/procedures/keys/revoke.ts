import { z } from "zod";
import { keyNameSchema } from "../../auth/apiKeys";
import { adminProcedure } from "../../trpc";

export const revokeKeyInput = z.object({ name: keyNameSchema });
export const revokeKeyOutput = z.object({ name: z.string(), revoked: z.literal(true) });

/** Revokes the active key of that name: its next call is refused and its open subscriptions end. NOT_FOUND when there is none. */
export const revokeKey = adminProcedure
  .input(revokeKeyInput)
  .output(revokeKeyOutput)
  .mutation(async ({ ctx, input }) => {
    await ctx.services.keys.revoke(input.name);
    return { name: input.name, revoked: true as const };
  });
