/**
 * Runs `kiln` cases one after another in this (child) process and prints one JSON line per finished case.
 * The parent runs it with a timeout and a heap cap: a case that hangs (a FIFO read) or eats memory (/dev/zero)
 * kills the child, its line and the ones after it never come, and those cases fail instead of hanging vitest.
 */
import { writeSync } from 'node:fs';
import { bufferedIO } from '../../cli/io.ts';
import { runCli } from '../../cli/program.ts';

const cases = JSON.parse(process.argv[2] ?? '[]') as { id: string; argv: string[] }[];
for (const c of cases) {
  const io = bufferedIO({ cwd: process.cwd(), env: {} });
  const code = await runCli(c.argv, io);
  // Synchronous, so a later hang cannot swallow the lines already produced.
  writeSync(1, `${JSON.stringify({ id: c.id, code, out: io.stdout(), err: io.stderr() })}\n`);
}
