/**
 * `changes` (docker builder with commit, docker-import): Dockerfile instructions applied with `--change`. Docker
 * accepts only these at commit and import; Kiln refuses anything else when the template is validated, instead of
 * failing at the end of a long build.
 */
import { printable } from './env-names.ts';

export const COMMIT_INSTRUCTIONS = [
  'CMD',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'LABEL',
  'ONBUILD',
  'USER',
  'VOLUME',
  'WORKDIR',
] as const;

/** Why one `changes` item is not a docker commit change, or undefined when it is one. */
export function changeProblem(change: string): string | undefined {
  if (/[\r\n\0]/.test(change)) {
    return `"${printable(change)}" spans more than one line: give each instruction as its own changes item`;
  }
  const instruction = /^\s*(\S+)/.exec(change)?.[1];
  if (instruction === undefined) return 'an empty change is not a Dockerfile instruction';
  if (!(COMMIT_INSTRUCTIONS as readonly string[]).includes(instruction.toUpperCase())) {
    return (
      `"${printable(instruction)}" is not an instruction docker accepts with --change; ` +
      `use one of ${COMMIT_INSTRUCTIONS.join(', ')}`
    );
  }
  if (!/^\s*\S+\s+\S/.test(change)) return `${instruction.toUpperCase()} needs an argument`;
  return undefined;
}
