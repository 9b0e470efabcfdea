/** Hand-written normalized templates for plan and validation tests (the front ends are tested elsewhere). */
import { resolve } from 'node:path';
import type { BuildDef, Template } from '../../../core/template/model.ts';

export const PROJECT_DIR = resolve(import.meta.dirname, '../../fixtures/components/project');

export function build(partial: Partial<BuildDef> & Pick<BuildDef, 'builderType' | 'config'>): BuildDef {
  return {
    name: partial.builderType,
    sourceName: partial.builderType,
    provisioners: [],
    postProcessors: [],
    ...partial,
  };
}

export function template(builds: readonly BuildDef[], extra: Partial<Template> = {}): Template {
  return {
    format: 'json',
    path: `${PROJECT_DIR}/template.json`,
    dir: PROJECT_DIR,
    files: [`${PROJECT_DIR}/template.json`],
    requiredPlugins: [],
    variables: [],
    sensitiveValues: [],
    builds,
    ...extra,
  };
}

export const EBS_CONFIG = {
  region: 'us-east-1',
  source_ami: 'ami-0123456789abcdef0',
  instance_type: 't3.micro',
  ssh_username: 'ubuntu',
  ami_name: 'kiln-base-{{timestamp}}',
  ami_regions: ['eu-west-1'],
};
