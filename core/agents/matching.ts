/**
 * Which agent may run which job, and why none can. A job requires its builder type (an agent lists the builder
 * types it accepts, and hypervisor builders need the hypervisor's CLI found on the agent) and the user labels the
 * build asks for (all of them, as GitHub's `runs-on: [self-hosted, x]`). When no online agent fits, the reason
 * names what is missing instead of a silent "waiting for a runner".
 */

/** Hypervisor CLIs an agent looks for at start (`vmrun` for VMware Workstation/Fusion, `VBoxManage`). */
export const HYPERVISORS = ['vmrun', 'VBoxManage'] as const;
export type Hypervisor = (typeof HYPERVISORS)[number];

/** What an agent found on its machine; refreshed on every acquire. */
export interface AgentCapabilities {
  /** Builder types the agent accepts (those its packer has and it was not told to refuse). */
  readonly builders: readonly string[];
  readonly hypervisors: readonly Hypervisor[];
  readonly packerVersion: string;
  readonly os: string;
  readonly arch: string;
}

export interface AgentProfile {
  readonly agentId: string;
  readonly name: string;
  readonly labels: readonly string[];
  readonly capabilities: AgentCapabilities;
}

export interface JobRequirements {
  readonly builderType: string;
  /** User labels the build requires; every one must be among the agent's. */
  readonly labels: readonly string[];
}

/** The hypervisor a builder type drives, with the product name a user recognises. */
export function requiredHypervisor(builderType: string): { cli: Hypervisor; product: string } | undefined {
  if (builderType.startsWith('vmware-')) return { cli: 'vmrun', product: 'vmware' };
  if (builderType.startsWith('virtualbox-')) return { cli: 'VBoxManage', product: 'virtualbox' };
  return undefined;
}

export const formatLabels = (labels: readonly string[]): string => `[${[...labels].sort().join(', ')}]`;

export function missingLabels(required: readonly string[], agent: readonly string[]): string[] {
  const have = new Set(agent);
  return required.filter((l) => !have.has(l));
}

/** Why this agent cannot run a job of this builder type (labels aside), or undefined when it can. */
export function capabilityGap(builderType: string, capabilities: AgentCapabilities): string | undefined {
  const hypervisor = requiredHypervisor(builderType);
  if (hypervisor && !capabilities.hypervisors.includes(hypervisor.cli)) {
    return `${hypervisor.product} not available on this agent (${hypervisor.cli} not found)`;
  }
  if (!capabilities.builders.includes(builderType)) return `builder ${builderType} is not among its builders`;
  return undefined;
}

/** Why this agent cannot take the job, or undefined when it can. */
export function mismatch(job: JobRequirements, agent: AgentProfile): string | undefined {
  const missing = missingLabels(job.labels, agent.labels);
  if (missing.length > 0) return `labels ${formatLabels(missing)} missing`;
  return capabilityGap(job.builderType, agent.capabilities);
}

export const matches = (job: JobRequirements, agent: AgentProfile): boolean => mismatch(job, agent) === undefined;

/**
 * The agent has the labels and the builder, and lacks only the hypervisor. When no online agent can run a job
 * (the sweep's verdict), such an agent may take it to refuse it: it writes the template, `packer validate`s it
 * and fails the job with its own diagnosis (`vmware not available on this agent: …`, Kiln.DriverUnavailable)
 * within a sweep, instead of the job waiting out the queue time. Never while an agent that can run it is online.
 */
export function mayDiagnose(job: JobRequirements, agent: AgentProfile): boolean {
  const hypervisor = requiredHypervisor(job.builderType);
  return (
    hypervisor !== undefined &&
    !agent.capabilities.hypervisors.includes(hypervisor.cli) &&
    agent.capabilities.builders.includes(job.builderType) &&
    missingLabels(job.labels, agent.labels).length === 0
  );
}

/**
 * The message a queued job shows (and fails with after the queue time) when none of the online agents fits:
 * no agent at all, none with the labels, or agents with the labels that cannot run the builder, each named.
 * Undefined when one fits (the job is only waiting for it to be free).
 */
export function explainNoMatch(job: JobRequirements, online: readonly AgentProfile[]): string | undefined {
  if (online.some((a) => matches(job, a))) return undefined;
  if (online.length === 0) return 'no agent is online';
  const labelled = online.filter((a) => missingLabels(job.labels, a.labels).length === 0);
  if (labelled.length === 0) {
    return job.labels.length === 0
      ? 'no agent is online'
      : `no agent with labels ${formatLabels(job.labels)} is online`;
  }
  const gaps = labelled
    .map((a) => `${a.name} (${a.agentId}): ${capabilityGap(job.builderType, a.capabilities)}`)
    .sort()
    .join('; ');
  const which = job.labels.length === 0 ? 'online agent' : `online agent with labels ${formatLabels(job.labels)}`;
  return `no ${which} can run ${job.builderType}: ${gaps}`;
}
