/**
 * Each `changes` item (docker builder at commit, docker-import) must be one instruction docker accepts there:
 * CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR (docker-changes.ts), checked before a build runs.
 */
import { changeProblem } from '../docker-changes.ts';
import type { Finding } from '../spec.ts';
import { stringList } from '../values.ts';

export function DockerChanges(config: Readonly<Record<string, unknown>>): Finding[] {
  return stringList(config.changes).flatMap((change, i) => {
    const problem = changeProblem(change);
    return problem ? [{ message: `changes[${i}]: ${problem}`, key: 'changes' }] : [];
  });
}
