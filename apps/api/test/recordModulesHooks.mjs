// The module hooks of recordModules.mjs (they run on a thread of their own).
import { appendFileSync } from "node:fs";

let file;

export function initialize(data) {
  file = data;
}

export async function load(url, context, nextLoad) {
  if (file) appendFileSync(file, `${url}\n`);
  return nextLoad(url, context);
}
