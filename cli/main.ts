/** Entry point of the `kiln` binary (bin/kiln.js) and of `npm run kiln`: wires the process to runCli. */
import { processIO } from './io.ts';
import { runCli } from './program.ts';

process.exitCode = await runCli(process.argv.slice(2), processIO());
