import { chatInput, chatStream } from "../../chat/converse";
import { mapStreamErrors } from "../../errors";
import { operatorProcedure } from "../../trpc";

export const streamChatInput = chatInput;

/** `chat.send` as a stream of `ChatEvent`s, ending with `completed`. */
export const streamChat = operatorProcedure
  .input(streamChatInput)
  .subscription(({ ctx, input, signal }) => mapStreamErrors(chatStream(ctx.services, input, signal)));
