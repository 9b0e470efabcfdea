import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AslCompositionError, type ComposedStateMachine } from '../asl-compose.ts';
import { loadStateMachine } from '../asl-files.ts';
import { compareSubstitutions, describeMismatch, placeholdersIn } from '../asl-placeholders.ts';
import { tagComponent } from './component-tag.ts';

export interface StateMachineFromFileProps {
  /** Absolute path of the parent `*.asl.json` file; the children it includes are composed in (infra/asl-compose.ts). */
  readonly file: string;
  /** Functions invoked by the definition, by placeholder name (`<Id>FunctionArn` → function). */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  /**
   * Other `${Name}` values (bucket names, queue URLs, ...).
   * @default {}
   */
  readonly substitutions?: Readonly<Record<string, string>>;
  /**
   * Values offered to every state machine of a stack: only those the composed definition uses are substituted.
   * @default {}
   */
  readonly optionalSubstitutions?: Readonly<Record<string, string>>;
  /**
   * Extra permissions for direct service integrations the definition uses (`arn:aws:states:::aws-sdk:...`).
   * @default []
   */
  readonly additionalStatements?: readonly iam.PolicyStatement[];
  readonly logsKey: kms.IKey;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** @default - no execution timeout beyond the definition's own TimeoutSeconds */
  readonly timeout?: Duration;
}

/**
 * A Standard state machine whose definition is an ASL file in the repository composed with the files it includes
 * (one flat definition, infra/asl-compose.ts), unchanged but for `${Placeholders}` filled through CloudFormation
 * `DefinitionSubstitutions`. The definition stays readable in the synthesized template and the same definition
 * runs in the local harness.
 *
 * CDK derives no IAM from a definition string, so this construct owns the link: it grants invoke on exactly the
 * functions it substitutes, and refuses to synthesize when the files and the substitutions disagree, naming the
 * file a placeholder is in.
 */
export class StateMachineFromFile extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  public readonly failedAlarm: cloudwatch.Alarm;
  public readonly timedOutAlarm: cloudwatch.Alarm;
  /** The substitutions passed to CloudFormation, by placeholder name. */
  public readonly substitutions: Readonly<Record<string, string>>;
  /** The composed definition and the files it came from. */
  public readonly composed: ComposedStateMachine;

  constructor(scope: Construct, id: string, props: StateMachineFromFileProps) {
    super(scope, id);
    let composed: ComposedStateMachine;
    try {
      composed = loadStateMachine(props.file);
    } catch (error) {
      if (error instanceof AslCompositionError) {
        throw new Error(`StateMachineFromFile: ${error.message} (${props.file})`, { cause: error });
      }
      throw error;
    }
    const definition = composed.text;
    const used = new Set(placeholdersIn(definition));
    const substitutions: Record<string, string> = Object.fromEntries(
      Object.entries(props.optionalSubstitutions ?? {}).filter(([name]) => used.has(name)),
    );
    for (const [name, value] of Object.entries(props.substitutions ?? {})) {
      if (name in substitutions) throw new Error(`StateMachineFromFile: ${name} given twice`);
      substitutions[name] = value;
    }
    for (const [placeholder, fn] of props.functions) {
      if (placeholder in substitutions) throw new Error(`StateMachineFromFile: ${placeholder} given twice`);
      substitutions[placeholder] = fn.functionArn;
    }
    const mismatch = compareSubstitutions(definition, Object.keys(substitutions));
    if (mismatch.missing.length > 0 || mismatch.unused.length > 0) {
      throw new Error(`StateMachineFromFile: ${describeMismatch(mismatch, composed.files)}`);
    }
    this.composed = composed;
    this.substitutions = substitutions;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The /aws/vendedlogs/ prefix keeps Step Functions from growing the account's logs resource policy.
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-${id}`,
      encryptionKey: props.logsKey,
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      // Execution data is logged because Kiln keeps secrets out of payloads by design (sensitive variables and
      // secret data sources are resolved as late as possible, inside the function that uses them, and travel as
      // references); what remains is template paths, ids and S3 keys, which are what an operator needs.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      ...(props.timeout ? { timeout: props.timeout } : {}),
    });
    const functionArns = [...props.functions.values()].map((fn) => fn.functionArn);
    if (functionArns.length > 0) {
      // Unqualified ARNs only (the definition names no versions or aliases), unlike grantInvoke's `<arn>:*`.
      this.stateMachine.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'InvokeOwnFunctions',
          actions: ['lambda:InvokeFunction'],
          resources: functionArns,
        }),
      );
    }
    for (const statement of props.additionalStatements ?? []) this.stateMachine.addToRolePolicy(statement);

    const alarmProps = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No executions is the normal state of an image factory, not a reason to alarm.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.failedAlarm = this.stateMachine
      .metricFailed({ period: Duration.minutes(5), statistic: 'Sum' })
      .createAlarm(this, 'ExecutionsFailed', { ...alarmProps, alarmDescription: `Kiln ${id}: an execution failed` });
    this.timedOutAlarm = this.stateMachine
      .metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' })
      .createAlarm(this, 'ExecutionsTimedOut', {
        ...alarmProps,
        alarmDescription: `Kiln ${id}: an execution timed out`,
      });

    tagComponent(this, 'state-machine');
  }
}
