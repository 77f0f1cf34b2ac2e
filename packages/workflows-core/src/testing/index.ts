export { InMemoryRunRecorder } from "../inMemoryRecorder";
export { FnModel, fnProvider, hasToolResult, lastUserText, type FnModelOptions, type Responder, type ScriptedReply } from "./fnModel";
