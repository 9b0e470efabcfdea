/**
 * The stack's outputs and the environment variables the `kiln` CLI reads them from: one table for the CDK stack
 * (which names its CfnOutputs from it), the CLI (`--local`, which fills the variables from a local stack's outputs)
 * and the harness. A command's `--table`-style flag still wins over its variable.
 */
import { AGENT_TABLE_ENV } from './agent-gateway-records.ts';
import { FLEET_ENV } from './fleet-contract.ts';
import { REGISTRY_TABLE_ENV } from './image-registry-records.ts';

export const STACK_OUTPUTS = {
  templateBucket: { output: 'TemplateBucketName', env: 'KILN_TEMPLATE_BUCKET' },
  artifactsBucket: { output: 'ArtifactsBucketName', env: 'KILN_ARTIFACTS_BUCKET' },
  buildsTable: { output: 'BuildsTableName', env: 'KILN_BUILDS_TABLE' },
  registryTable: { output: 'RegistryTableName', env: REGISTRY_TABLE_ENV },
  agentGatewayUrl: { output: 'AgentGatewayUrl', env: 'KILN_AGENT_GATEWAY_URL' },
  agentTable: { output: 'AgentTableName', env: AGENT_TABLE_ENV },
  buildStateMachine: { output: 'BuildStateMachineArn', env: 'KILN_STATE_MACHINE_ARN' },
  fleetTable: { output: 'FleetTableName', env: FLEET_ENV.table },
} as const;

export type StackOutputKey = keyof typeof STACK_OUTPUTS;

/** The CLI's variables from a stack's outputs (by output name); outputs the stack lacks are left out. */
export function cliEnvFromOutputs(outputs: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { output, env: name } of Object.values(STACK_OUTPUTS)) {
    const value = outputs[output];
    if (value) env[name] = value;
  }
  return env;
}
