/**
 * The cleanup table the Cleanup stage dispatches on: every driver group's entries, composed. Typed as the full
 * `CleanupTable`, so a created-resource kind that no group handles is a compile error here.
 */

import { ecrClient } from '../../../aws/clients/ecr.ts';
import { ec2AmiCleanup } from '../../ec2-ami/cleanup-entries.ts';
import { ec2DockerCleanup } from '../../ec2-docker/cleanup-entries.ts';
import { ecrImageCleanup } from '../../ec2-docker/ecr-cleanup-entries.ts';
import { ec2HostCleanup } from '../../ec2-host/cleanup-entries.ts';
import type { CleanupEntries, CleanupTable } from '../../lib/cleanup-table.ts';
import { commonCleanup } from './common-entries.ts';

/** Each group's contribution, by name (tests check that no two groups handle the same kind). */
export const CLEANUP_CONTRIBUTIONS: Readonly<Record<string, CleanupEntries>> = {
  common: commonCleanup,
  'ec2-host': ec2HostCleanup,
  'ec2-ami': ec2AmiCleanup,
  'ec2-docker': { ...ec2DockerCleanup, 'ecr-image': ecrImageCleanup((r) => ecrClient(r)) },
};

export const CLEANUP_TABLE: CleanupTable = {
  ...commonCleanup,
  ...ec2HostCleanup,
  ...ec2AmiCleanup,
  ...ec2DockerCleanup,
  'ecr-image': ecrImageCleanup((r) => ecrClient(r)),
};
