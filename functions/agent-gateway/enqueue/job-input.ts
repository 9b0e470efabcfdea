/**
 * EnqueueAgentJob's input and the job it queues. The agent driver's ASL task passes only the task token and the
 * build state; the job (builder type, build name, the staged template and variables) comes from the stored plan,
 * so the execution history never carries the job document and the ASL knows no field of it.
 */
import * as z from 'zod/mini';
import { agentJobPayloadSchema, type EnqueueJobInput } from '../../../aws/agent-gateway-contract.ts';
import { TemplateInvalidError } from '../../../core/errors.ts';
import type { PlannedBuild } from '../../../core/plan/types.ts';
import { agentStateSchema } from '../../lib/build-state.ts';

export const enqueueTaskInputSchema = z.object({
  /** `$$.Task.Token` of the `.waitForTaskToken` task. */
  taskToken: z.string().check(z.minLength(1), z.maxLength(8192)),
  state: agentStateSchema,
});
export type EnqueueTaskInput = z.infer<typeof enqueueTaskInputSchema>;

/** The gateway's enqueue input for one planned agent build; the payload is checked against the contract here. */
export function jobInputFor(input: EnqueueTaskInput, build: PlannedBuild, format: 'json' | 'hcl'): EnqueueJobInput {
  if (build.driver !== 'agent' || !('agentJob' in build) || !build.agentJob) {
    throw new TemplateInvalidError(
      `build ${build.name} (${build.builderType}) has no staged agent job: PrepareBuild stages one for every agent build`,
    );
  }
  return {
    taskToken: input.taskToken,
    buildId: input.state.buildId,
    build: build.name,
    builderType: build.builderType,
    // A build's required labels: none from a Packer template (it has no such field); the builder type and the
    // hypervisor it needs are matched on the agent's capabilities.
    labels: [],
    payload: agentJobPayloadSchema.parse({ version: 1, format, ...build.agentJob }),
  };
}
