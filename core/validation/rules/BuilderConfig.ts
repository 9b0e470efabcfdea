/** Each build's builder configuration against its builder schema (or: agent-only, third-party, unknown type). */
import { validateBuilder } from '../../builders/registry.ts';
import type { TemplateRule } from './types.ts';

export const BuilderConfig: TemplateRule = (template, ctx) =>
  template.builds.flatMap((build) =>
    validateBuilder(
      build,
      {
        format: template.format,
        templateDir: template.dir,
        fileExists: ctx.fileExists,
        ...(ctx.cwd ? { cwd: ctx.cwd } : {}),
        range: build.range,
      },
      template.requiredPlugins,
    ),
  );
