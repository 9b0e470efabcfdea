/** Cleanup entries of the EC2 builder host (ec2-ami and ec2-docker): the builder instance. */
import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { type CreatedOf, createdOf } from '../lib/build-state.ts';
import { buildTagFilters, type CleanupEntries } from '../lib/cleanup-table.ts';

export const ec2HostCleanup = {
  instance: {
    remove: (run, resource) =>
      run.attempt({ action: 'terminate-instance', target: resource.id, region: resource.region }, () =>
        run.deps.ec2For(resource.region).send(new TerminateInstancesCommand({ InstanceIds: [resource.id] })),
      ),
    sweep: async (run, region) => {
      const known = new Set(createdOf(run.state, 'instance').map((r) => r.id));
      const out = await run.deps
        .ec2For(region)
        .send(new DescribeInstancesCommand({ Filters: buildTagFilters(run.state) }));
      const found: CreatedOf<'instance'>[] = [];
      for (const r of out.Reservations ?? []) {
        for (const i of r.Instances ?? []) {
          if (i.InstanceId && !known.has(i.InstanceId) && i.State?.Name !== 'terminated') {
            found.push({ kind: 'instance', region, id: i.InstanceId });
          }
        }
      }
      return found;
    },
  },
} satisfies CleanupEntries;
