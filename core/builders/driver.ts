/**
 * Drivers: which machinery runs a build. The builder catalog defines them (each builder spec names its driver,
 * any other type runs on an agent: registry.ts `driverFor`); the provisioner and post-processor catalogs say
 * which drivers run which types, the plan records each build's, and the state machine routes on it.
 */

/** Which machinery runs a build: amazon-ebs → ec2-ami, docker → ec2-docker, everything on-prem → agent. */
export type Driver = 'ec2-ami' | 'ec2-docker' | 'agent';

/** Human-facing facts for `kiln plan`, per driver; absent fields do not apply. */
export interface BuildSummary {
  readonly instanceType?: string;
  readonly sourceAmi?: string;
  readonly amiName?: string;
  readonly regions?: readonly string[];
  readonly image?: string;
  readonly ecrRepository?: string;
  readonly agentLabels?: readonly string[];
}
