/**
 * Cleanup entries of the docker driver: the build's containers on its builder host, removed with core's cleanup
 * script over SSM before the host is terminated (the entry is recorded after the instance, and Cleanup walks
 * `created` in reverse). On AWS terminating the host would end them too; removing them first keeps a host that
 * outlives the build (a kept-for-debugging host, the local stand-in) clean, and is what Packer's own cleanup does.
 */
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { renderCleanup } from '../../core/docker/host.ts';
import { awsErrorCode } from '../lib/aws-errors.ts';
import type { CleanupEntries } from '../lib/cleanup-table.ts';
import { awaitCommand } from '../lib/commands/await-command.ts';

/** How long Cleanup waits for the script (it removes containers and one folder: seconds). */
export const CONTAINER_CLEANUP_WAIT_SECONDS = 60;

export const ec2DockerCleanup = {
  'docker-containers': {
    remove: (run, resource) =>
      run.attempt({ action: 'remove-containers', target: resource.instanceId, region: resource.region }, async () => {
        const ssmFor = run.deps.ssmFor;
        if (!ssmFor) throw new Error('this Cleanup has no SSM client; the host is terminated with them');
        const ssm = ssmFor(resource.region);
        const sent = await ssm
          .send(
            new SendCommandCommand({
              InstanceIds: [resource.instanceId],
              DocumentName: 'AWS-RunShellScript',
              Comment: `kiln ${run.state.buildId} b${run.state.index} remove containers`,
              Parameters: {
                commands: renderCleanup({ buildId: run.state.buildId }).replace(/\n$/, '').split('\n'),
                executionTimeout: [String(CONTAINER_CLEANUP_WAIT_SECONDS)],
              },
            }),
          )
          .catch((err: unknown) => {
            // The host no longer takes commands (Terminate ran after finish, or it stopped): its containers went
            // or go with it, and the instance entry (next) terminates it. Reported as already gone.
            if (awsErrorCode(err) !== 'InvalidInstanceId') throw err;
            throw Object.assign(new Error(`${resource.instanceId} takes no commands: its containers go with it`), {
              name: 'InvalidInstanceID.NotFound',
            });
          });
        const commandId = sent.Command?.CommandId;
        if (!commandId) throw new Error('SendCommand returned no command id');
        const sleep = run.deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
        const end = await awaitCommand(
          ssm,
          { commandId, instanceId: resource.instanceId },
          { seconds: CONTAINER_CLEANUP_WAIT_SECONDS, pollMs: 1000, sleep },
        );
        if (!end.finished) {
          throw new Error(`the cleanup script gave no result within ${CONTAINER_CLEANUP_WAIT_SECONDS}s`);
        }
        if (end.status !== 'Success') {
          throw new Error(`the cleanup script ended ${end.status} (exit code ${end.exitCode})`);
        }
      }),
  },
} satisfies CleanupEntries;
