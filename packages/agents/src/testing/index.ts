export {
  startFakeOpenAI,
  type FakeAnswerContext,
  type FakeFault,
  type FakeFaultScript,
  type FakeOpenAI,
  type FakeOpenAIOptions,
  type FakeOpenAIRequest,
} from "./fakeOpenAI";
export { scriptedProvider } from "./scriptedProvider";
