import { z } from "zod";

const id = (what: string) => z.string().min(1, `${what} must not be empty`).max(200, `${what} must be at most 200 characters`);

/** The request shared by `workflows.run` and `workflows.runStream`. */
export const startRunInput = z.object({
  key: z.string().min(1, "key must not be empty"),
  input: z.string().min(1, "input must not be empty"),
  conversationId: id("conversationId").nullish(),
  idempotencyKey: id("idempotencyKey").nullish(),
});
