/** Each provisioner (and the error-cleanup provisioner) against its schema, knowing the build's driver. */
import { driverFor } from '../../builders/registry.ts';
import { validateProvisioner } from '../../provisioners/registry.ts';
import type { TemplateRule } from './types.ts';

export const ProvisionerConfig: TemplateRule = (template, ctx) =>
  template.builds.flatMap((build) => {
    const driver = driverFor(build.builderType);
    const all = [...build.provisioners, ...(build.errorCleanupProvisioner ? [build.errorCleanupProvisioner] : [])];
    return all.flatMap((p) =>
      validateProvisioner(
        p,
        driver,
        {
          format: template.format,
          templateDir: template.dir,
          fileExists: ctx.fileExists,
          ...(ctx.cwd ? { cwd: ctx.cwd } : {}),
          range: p.range,
        },
        template.requiredPlugins,
      ),
    );
  });
