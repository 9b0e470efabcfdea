import { type IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { EC2_DESCRIBE_ACTIONS } from './permission-basics.ts';

/** A kind of IAM resource wildcard Kiln accepts, and why. */
export interface WildcardJustification {
  /** Matched against cdk-nag's flattened resource (`arn:<AWS::Partition>:...`, `<LogicalId.Arn>/...`). */
  readonly pattern: RegExp;
  readonly reason: string;
}

/**
 * Actions that accept only `Resource: "*"` (no resource-level permissions in the IAM service authorization
 * reference) and change nothing Kiln does not own. A statement on `*` with any other action is not acknowledged
 * and fails synthesis.
 */
export const STAR_ONLY_ACTIONS: ReadonlySet<string> = new Set([
  ...EC2_DESCRIBE_ACTIONS,
  'ssm:GetCommandInvocation',
  'ssm:ListCommandInvocations',
  'ssm:ListCommands',
  'ssm:DescribeInstanceInformation',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  // Step Functions log delivery to CloudWatch Logs (vended logs API).
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  // ECR login (docker builds): a token for the caller's own permissions, nothing else.
  'ecr:GetAuthorizationToken',
  // Agent gateway: answering a task needs its token, which only the gateway's table holds.
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
  'states:SendTaskHeartbeat',
]);

/** One ARN segment: literal, or a pseudo parameter as cdk-nag prints it (`<AWS::Region>`, which holds colons). */
const SEG = '(?:<[^>]*>|[^:<]*)';

export const KILN_WILDCARD_JUSTIFICATIONS: readonly WildcardJustification[] = [
  {
    pattern: /:log-stream:\*$/,
    reason: 'Log streams are named at run time inside a log group this stack owns; the group itself is pinned.',
  },
  {
    pattern: new RegExp(`:ec2:${SEG}:${SEG}:(instance|volume|network-interface|subnet|security-group)/\\*$`),
    reason:
      'Builder instance/volume/ENI ids exist only after launch; every statement on them requires the kiln:build-id ' +
      'tag (request or resource) or the builder VPC (ec2:Vpc).',
  },
  {
    pattern: /:ec2:\*::(image|snapshot)\/\*$/,
    reason:
      'AMI and snapshot ARNs carry no account and images are copied to other regions; mutating statements require ' +
      'the kiln:build-id tag, RunInstances may read any source AMI.',
  },
  {
    pattern: /\/(builds\/\*\/(files|logs)\/\*|builds\/\*|templates\/\*|submissions\/\*|manifests\/\*|secrets\/\*)$/,
    reason: 'Per-build keys are created at run time under the Kiln prefixes of a bucket this stack owns.',
  },
  {
    // Region and account pinned (a pseudo parameter or a literal, never `*`).
    pattern: /:ecr:(?:<AWS::Region>|[a-z]{2}(?:-[a-z]+)+-\d+):(?:<AWS::AccountId>|\d{12}):repository\/\*$/,
    reason:
      'Docker templates name their ECR repositories at run time: this account and region only; every write ' +
      '(push, lifecycle) requires the kiln:managed=true resource tag and CreateRepository the same request tag.',
  },
  {
    pattern: /\/(builds\/\*\/files\/\.kiln\/agent-template\.tar\.gz|secrets\/\*\/agent-variables\.json)$/,
    reason:
      'The agent job files of any running build (build ids are made at run time): read only, presigned by the acquire handler for the agent that leased the job.',
  },
  {
    pattern: /\/agent-artifacts\/\*$/,
    reason:
      "Artifact files self-hosted agents upload (build ids and file names are made at run time): write only (s3:PutObject), presigned by the uploads handler for the current lease holder of the build's job.",
  },
  {
    pattern: /\/index\/\*$/,
    reason: 'Indexes of the builds table this stack owns.',
  },
  {
    // Before the resolvers' rule below, which would match it too.
    pattern: new RegExp(`:ssm:\\*:${SEG}:parameter/kiln/\\*$`),
    reason:
      'Channel parameters (/kiln/<template>/<build>/<channel>) are named by templates at run time and published in ' +
      'every region an AMI is copied to: write only (ssm:PutParameter), this account, under /kiln only.',
  },
  {
    pattern: new RegExp(`:ssm:${SEG}:${SEG}:parameter/[^*]*\\*$|:secretsmanager:${SEG}:${SEG}:secret:[^*]*\\*$`),
    reason:
      'Templates name the parameters and secrets they resolve ({{ssm}}, data sources): read-only, this account and ' +
      'region, and only under the prefix (and tag) the deployer allows (kiln:secretPrefix, kiln:secretTag).',
  },
  {
    pattern: new RegExp(`:scheduler:${SEG}:${SEG}:schedule/[0-9A-Za-z_.-]+/\\*$`),
    reason:
      'Schedules are named at run time (kiln schedules add) inside the one schedule group this stack creates: ' +
      'read and update only (Finalize disables a schedule that keeps failing).',
  },
  {
    // The state machine's name is its own GetAtt (cdk-nag prints `<LogicalId.Name>`); only its executions.
    pattern: new RegExp(`:states:${SEG}:${SEG}:execution:<[A-Za-z0-9]+\\.Name>:\\*$`),
    reason:
      "Executions of the stack's build state machine are named at run time: states:DescribeExecution only (AcquireSlot " +
      'takes back the fleet slot of an execution that ended without releasing it).',
  },
  {
    pattern: new RegExp(`:kms:${SEG}:${SEG}:key/\\*$`),
    reason: 'Decrypt of SecureString parameters and secrets, only via SSM or Secrets Manager (kms:ViaService).',
  },
];

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
}

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 wildcard findings that match a justification, on the policy that has
 * them, using cdk-nag's own rule to name the findings (so the ids cannot drift from what cdk-nag reports).
 * `Resource::*` is acknowledged only when every statement on `*` uses STAR_ONLY_ACTIONS. Findings that match
 * nothing stay, and fail synthesis.
 */
export class WildcardJustifications implements IAspect {
  constructor(private readonly justifications: readonly WildcardJustification[] = KILN_WILDCARD_JUSTIFICATIONS) {}

  visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy)) return;
    const result = rules.iam.IAMNoWildcardPermissions(node);
    if (!Array.isArray(result)) return;
    for (const finding of result as string[]) {
      const reason = this.reasonFor(node, finding);
      if (reason) Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
  }

  private reasonFor(node: iam.CfnPolicy, finding: string): string | undefined {
    if (finding === 'Resource::*') {
      const document = Stack.of(node).resolve(node.policyDocument) as { Statement?: Statement[] };
      const onStar = (document.Statement ?? []).filter(
        (s) => s.Effect === 'Allow' && [s.Resource].flat().includes('*'),
      );
      const allowed = onStar.every((s) => [s.Action ?? []].flat().every((action) => STAR_ONLY_ACTIONS.has(action)));
      return allowed
        ? 'Only actions without resource-level permissions (EC2/SSM read calls, X-Ray, log delivery, ECR login) are on "*".'
        : undefined;
    }
    if (!finding.startsWith('Resource::')) return undefined;
    const resource = finding.slice('Resource::'.length);
    return this.justifications.find((j) => j.pattern.test(resource))?.reason;
  }
}
