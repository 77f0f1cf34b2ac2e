import { chatInput, chatStream } from "../../chat/converse";
import { mapStreamErrors } from "../../errors";
import { publicProcedure } from "../../trpc";

export const streamChatInput = chatInput;

/** `chat.send` as a stream of `ChatEvent`s, ending with `completed`. */
export const streamChat = publicProcedure
  .input(streamChatInput)
  .subscription(({ ctx, input, signal }) => mapStreamErrors(chatStream(ctx.services, input, signal)));
