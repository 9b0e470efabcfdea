/**
 * Cleanup entries of the AMI driver: an image (source or region copy) with its snapshots. Snapshots are not
 * recorded on their own: they are found through the image (its block device mappings, else what CheckImages
 * recorded), so deregistering and deleting them stay one entry in reverse order.
 */
import { DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { type CreatedOf, createdOf } from '../lib/build-state.ts';
import { buildTagFilters, type CleanupEntries } from '../lib/cleanup-table.ts';

export const ec2AmiCleanup = {
  image: {
    remove: async (run, { region, id: imageId }) => {
      const ec2 = run.deps.ec2For(region);
      const known =
        run.state.driver === 'ec2-ami' ? (run.state.images.find((i) => i.imageId === imageId)?.snapshotIds ?? []) : [];
      let snapshots = [...known];
      try {
        const out = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
        for (const m of out.Images?.[0]?.BlockDeviceMappings ?? []) {
          if (m.Ebs?.SnapshotId && !snapshots.includes(m.Ebs.SnapshotId)) snapshots.push(m.Ebs.SnapshotId);
        }
      } catch {
        snapshots = [...known]; // the image may be gone already; delete the snapshots we know of
      }
      await run.attempt({ action: 'deregister-image', target: imageId, region }, () =>
        ec2.send(new DeregisterImageCommand({ ImageId: imageId })),
      );
      for (const snapshotId of snapshots) {
        await run.attempt({ action: 'delete-snapshot', target: snapshotId, region }, () =>
          ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })),
        );
      }
    },
    sweep: async (run, region) => {
      const known = new Set(createdOf(run.state, 'image').map((r) => r.id));
      const out = await run.deps
        .ec2For(region)
        .send(new DescribeImagesCommand({ Owners: ['self'], Filters: buildTagFilters(run.state) }));
      const found: CreatedOf<'image'>[] = [];
      for (const i of out.Images ?? []) {
        if (i.ImageId && !known.has(i.ImageId)) found.push({ kind: 'image', region, id: i.ImageId });
      }
      return found;
    },
  },
} satisfies CleanupEntries;
