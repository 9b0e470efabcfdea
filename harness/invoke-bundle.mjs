// Runs one Lambda bundle the way the nodejs22.x runtime does, in this fresh process: import the module, then
// call its `handler` once with an event and a Lambda context. Plain JavaScript on purpose (no tsx, no loader),
// so nothing but Node and the bundle is involved. Writes one JSON line to the result file (stdout belongs to the
// handler's logger): { ok, value | errorType, errorMessage, importMs, invokeMs, cpuMs }. With --many, the event file
// holds a list of events, invoked one after the other in this process (warm after the first), and the result
// line is the list of outcomes.
// Usage: node invoke-bundle.mjs <bundle.mjs> <event.json> <result.json> [--many]
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile, resultFile, mode] = process.argv.slice(2);
if (!bundle || !eventFile || !resultFile)
  throw new Error('usage: invoke-bundle.mjs <bundle.mjs> <event.json> <result.json>');
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const started = Date.now();
const context = {
  functionName: process.env.KILN_FUNCTION_ID ?? 'bundle',
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${process.env.KILN_FUNCTION_ID ?? 'bundle'}`,
  memoryLimitInMB: '256',
  awsRequestId: '00000000-0000-4000-8000-000000000000',
  logGroupName: '/aws/lambda/bundle',
  logStreamName: 'local',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, 300_000 - (Date.now() - started)),
};

const t0 = performance.now();
const module = await import(pathToFileURL(bundle).href);
const t1 = performance.now();
async function invoke(one) {
  const start = performance.now();
  let outcome;
  try {
    if (typeof module.handler !== 'function') throw new TypeError(`${bundle} exports no handler function`);
    outcome = { ok: true, value: await module.handler(one, context) };
  } catch (error) {
    outcome = { ok: false, errorType: error?.name ?? typeof error, errorMessage: String(error?.message ?? error) };
  }
  return { ...outcome, importMs: t1 - t0, invokeMs: performance.now() - start };
}
let result;
if (mode === '--many') {
  result = [];
  for (const one of event) result.push(await invoke(one));
} else {
  result = await invoke(event);
}
// CPU time of this whole process so far (start-up, import, invocations): robust on a busy machine, where wall
// time mostly measures waiting for a core.
const cpu = process.cpuUsage();
const cpuMs = (cpu.user + cpu.system) / 1000;
result = Array.isArray(result) ? result.map((r) => ({ ...r, cpuMs })) : { ...result, cpuMs };
writeFileSync(resultFile, `${JSON.stringify(result)}\n`);
