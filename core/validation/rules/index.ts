/** Every template rule, in the order their diagnostics are reported. */
import { BuilderConfig } from './BuilderConfig.ts';
import { DeploymentScope } from './DeploymentScope.ts';
import { FileConfinement } from './FileConfinement.ts';
import { PostProcessorConfig } from './PostProcessorConfig.ts';
import { ProvisionerConfig } from './ProvisionerConfig.ts';
import { ProvisionerDuration } from './ProvisionerDuration.ts';
import { ProvisionerMaxRetries } from './ProvisionerMaxRetries.ts';
import type { TemplateRule } from './types.ts';

export const TEMPLATE_RULES: readonly TemplateRule[] = [
  FileConfinement,
  BuilderConfig,
  DeploymentScope,
  ProvisionerConfig,
  ProvisionerDuration,
  ProvisionerMaxRetries,
  PostProcessorConfig,
];
