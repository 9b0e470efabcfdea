/** Tags docker accepts (`tag`, `tags`); an empty tag is no tag (docker's `latest`), as in Packer. */
import { dockerTagProblem } from '../../schema/docker-names.ts';
import type { Finding } from '../../schema/spec.ts';
import { stringList } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';

export function DockerTagNames(config: Config): Finding[] {
  return (['tag', 'tags'] as const).flatMap((key) =>
    stringList(config[key])
      .filter((t) => t !== '')
      .flatMap((t) => {
        const problem = dockerTagProblem(t);
        return problem ? [{ message: `${key}: ${problem}`, key }] : [];
      }),
  );
}
