/** Each post-processor of each chain against its schema, knowing the build's driver. */
import { driverFor } from '../../builders/registry.ts';
import { validatePostProcessor } from '../../postprocessors/registry.ts';
import type { TemplateRule } from './types.ts';

export const PostProcessorConfig: TemplateRule = (template, ctx) =>
  template.builds.flatMap((build) => {
    const driver = driverFor(build.builderType);
    return build.postProcessors.flat().flatMap((pp) =>
      validatePostProcessor(
        pp,
        driver,
        {
          format: template.format,
          templateDir: template.dir,
          fileExists: ctx.fileExists,
          ...(ctx.cwd ? { cwd: ctx.cwd } : {}),
          range: pp.range,
        },
        template.requiredPlugins,
      ),
    );
  });
