import { sendChat } from "../procedures/chat/send";
import { streamChat } from "../procedures/chat/stream";
import { router } from "../trpc";

export const chatRouter = router({ send: sendChat, stream: streamChat });
