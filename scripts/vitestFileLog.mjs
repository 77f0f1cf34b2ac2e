// A vitest reporter for CI (.ci/run sets VITEST_FILE_LOG): appends a line when a test file starts and when it
// ends, with its state, so that a run cut short (a test process that died, which vitest reports as "Worker
// exited unexpectedly" without naming the file) says which files never finished.
import fs from "node:fs";

export default class VitestFileLog {
  #file = process.env.VITEST_FILE_LOG;

  #write(line) {
    if (this.#file) fs.appendFileSync(this.#file, `${line}\n`);
  }

  onTestModuleStart(testModule) {
    this.#write(`start ${testModule.project.name || "-"} ${testModule.moduleId}`);
  }

  onTestModuleEnd(testModule) {
    this.#write(`end ${testModule.project.name || "-"} ${testModule.moduleId} ${testModule.state()}`);
  }
}
