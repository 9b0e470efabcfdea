#!/usr/bin/env node
// The `kiln` binary: runs the CLI bundle that the setup step builds (dist/kiln.mjs, with its wasm files beside
// it), so users need neither tsx nor a TypeScript toolchain at run time. cli/main.ts sets the exit code.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/kiln.mjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write(`kiln: ${bundle} is missing; run "bash scripts/setup.sh" (or any npm script) once first.\n`);
  process.exit(2);
}
await import('../dist/kiln.mjs');
