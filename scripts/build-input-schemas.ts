/**
 * Writes the published JSON Schemas (schemas/*.schema.json) from their one owner, aws/build-input.ts, then
 * formats them as the repository does (biome). `npm run schemas` after changing the contract:
 * test/unit/aws/build-input.test.ts fails while a committed file differs from what this generates.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { publishedSchemas } from '../aws/build-input.ts';

const root = resolve(import.meta.dirname, '..');
const files = Object.entries(publishedSchemas()).map(([file, schema]) => {
  writeFileSync(join(root, file), `${JSON.stringify(schema, null, 2)}\n`);
  return file;
});
const biome = spawnSync('biome', ['format', '--write', ...files], { cwd: root, stdio: 'inherit' });
process.stdout.write(`wrote ${files.join(', ')}\n`);
process.exit(biome.status ?? 1);
