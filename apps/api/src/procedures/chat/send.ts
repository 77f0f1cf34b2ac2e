import { chatAnswerSchema, chatInput, chatOnce } from "../../chat/converse";
import { operatorProcedure } from "../../trpc";

export const sendChatInput = chatInput;
export const sendChatOutput = chatAnswerSchema;

/** Talks to an agent (default `triage`); history is kept per `conversationId`. */
export const sendChat = operatorProcedure
  .input(sendChatInput)
  .output(sendChatOutput)
  .mutation(({ ctx, input, signal }) => chatOnce(ctx.services, input, signal));
