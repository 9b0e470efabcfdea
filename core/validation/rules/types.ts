/** The shape of a template rule: one pure function per file (cdk-nag style), template in, diagnostics out. */
import type { Confinement } from '../../files/access.ts';
import type { DeploymentAllowances } from '../../template/deployment.ts';
import type { Diagnostic } from '../../template/diagnostics.ts';
import type { Template } from '../../template/model.ts';

export interface RuleContext {
  /** Whether a path exists; scripts, file sources and floppy files are checked at validate time as Packer does. */
  readonly fileExists: (path: string) => boolean;
  /** Working directory of the run (LoadOptions.cwd); Packer resolves relative paths against it. */
  readonly cwd?: string;
  /** The pipeline's rule: files named by the template must be inside this root. */
  readonly confinement?: Confinement;
  /** What the deployment lets templates use (PrepareBuild): KMS keys; see DeploymentScope. */
  readonly deployment?: DeploymentAllowances;
}

export type TemplateRule = (template: Template, ctx: RuleContext) => Diagnostic[];
