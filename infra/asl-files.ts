/**
 * The one reader of the state machine files: everything that needs a definition (the CDK construct, the stack,
 * the ASL tests) loads it here, composed (infra/asl-compose.ts), so nothing reads a parent without its children.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type ComposedStateMachine, composeStateMachine } from './asl-compose.ts';

export const ASL_SUFFIX = '.asl.json';

/** A state machine the stack deploys: a `*.asl.json` file directly in the folder (sub-folders hold children). */
export interface StateMachineFile {
  /** File name without `.asl.json` (`build`): the name registry triggers use. */
  readonly name: string;
  readonly path: string;
}

/** The state machines of a folder, sorted by name. */
export function listStateMachines(dir: string): StateMachineFile[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith(ASL_SUFFIX) && statSync(join(dir, file)).isFile())
    .sort()
    .map((file) => ({ name: basename(file, ASL_SUFFIX), path: join(dir, file) }));
}

/** Reads a parent file and the children it includes (relative to its folder) and composes them. */
export function loadStateMachine(path: string): ComposedStateMachine {
  const dir = dirname(path);
  return composeStateMachine({ name: basename(path), text: readFileSync(path, 'utf8') }, (name) => {
    const child = join(dir, name);
    return existsSync(child) && statSync(child).isFile() ? readFileSync(child, 'utf8') : undefined;
  });
}
