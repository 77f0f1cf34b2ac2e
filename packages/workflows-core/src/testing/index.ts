export { InMemoryRunRecorder } from "../inMemoryRecorder";
