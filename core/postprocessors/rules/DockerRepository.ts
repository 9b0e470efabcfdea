/** A repository Kiln can push: a bare name is an ECR repository name (schema/docker-names.ts), checked by ECR's rule. */
import { repositoryProblem } from '../../schema/docker-names.ts';
import type { Finding } from '../../schema/spec.ts';
import { knownString } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';

export function DockerRepository(config: Config): Finding[] {
  const repository = knownString(config.repository);
  const problem = repository ? repositoryProblem(repository) : undefined;
  return problem ? [{ message: `repository: ${problem}`, key: 'repository' }] : [];
}
