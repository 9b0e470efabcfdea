/** docker's cross-field rules, one per file, in the order their findings are reported. */
import { DockerChanges } from '../../../schema/rules/DockerChanges.ts';
import type { ComponentRule } from '../../../schema/spec.ts';
import { DockerEcrLogin } from './DockerEcrLogin.ts';
import { DockerResult } from './DockerResult.ts';
import { DockerSource } from './DockerSource.ts';

export const DOCKER_RULES: readonly ComponentRule[] = [DockerSource, DockerResult, DockerEcrLogin, DockerChanges];
