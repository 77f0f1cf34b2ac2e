export { startFakeOpenAI, type FakeAnswerContext, type FakeOpenAI, type FakeOpenAIOptions, type FakeOpenAIRequest } from "./fakeOpenAI";
export { scriptedProvider } from "./scriptedProvider";
