// `node --import ./recordModules.mjs`: appends the URL of every module the process loads (ESM, and CommonJS
// entered through an import) to the file named by RECORD_MODULES_FILE. Tests use it to see what a server holds.
import { register } from "node:module";

register(new URL("./recordModulesHooks.mjs", import.meta.url), { data: process.env.RECORD_MODULES_FILE });
