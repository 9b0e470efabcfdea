/**
 * The agent gateway (issue 11): its table, created before the functions (they need its name and ARN), then the
 * HTTPS API whose routes are the registry's `api-route` functions, and the rule that runs the `schedule` ones.
 * Every route authenticates in its handler (agent secret, job credential, or the one-time registration token in
 * the body: API Gateway's authorizers cannot check a hashed secret against the table without another Lambda);
 * the stage throttles every route, and logs each request to an encrypted log group.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AGENT_TABLE, STATE_INDEX_ATTRIBUTES } from '../../aws/agent-gateway-records.ts';
import type { FunctionSpec } from '../../functions/registry.ts';
import { tagComponent } from './component-tag.ts';
import { acknowledge } from './nag-acknowledge.ts';

export interface AgentTableProps {
  readonly dataKey: kms.IKey;
}

/** Registration tokens, agents and jobs (single table, aws/agent-gateway-records.ts), with TTL and `byState`. */
export class AgentTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: AgentTableProps) {
    super(scope, id);
    const { partitionKey, sortKey, stateIndex, ttlAttribute } = AGENT_TABLE;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.dataKey,
      timeToLiveAttribute: ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Queued jobs hold task tokens of running executions; nothing here outlives a redeploy's need.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: stateIndex.name,
      partitionKey: { name: stateIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: stateIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...STATE_INDEX_ATTRIBUTES],
    });
    tagComponent(this, 'agent-gateway');
  }
}

export interface AgentGatewayProps {
  /** The registry's functions (KILN_FUNCTIONS) and their deployed Lambdas, by id. */
  readonly specs: readonly FunctionSpec[];
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  readonly logsKey: kms.IKey;
  /** Requests per second across the API (and the burst above it). @default 50 / 100 */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
}

/** The REST API agents call, and the schedule of the sweep. */
export class AgentGateway extends Construct {
  /** Absent when the registry has no api-route function (fixture registries): a REST API needs a method. */
  public readonly api?: apigateway.RestApi;

  constructor(scope: Construct, id: string, props: AgentGatewayProps) {
    super(scope, id);
    for (const spec of props.specs) {
      const fn = props.functions.get(spec.id);
      if (!fn || spec.trigger.kind !== 'schedule') continue;
      const rule = new events.Rule(this, `${spec.id}Schedule`, {
        description: `Kiln ${spec.id}: ${spec.description}`,
        schedule: events.Schedule.expression(spec.trigger.expression),
        targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
      });
      acknowledge(
        rule,
        'Serverless-EventBusDLQ',
        'A scheduled run that fails (the sweep, the daily lifecycle) is simply run again by its next schedule; a queued copy would only repeat it late.',
      );
    }
    const routes = props.specs.filter((spec) => spec.trigger.kind === 'api-route' && props.functions.has(spec.id));
    if (routes.length === 0) return;
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      encryptionKey: props.logsKey,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const throttle = props.throttle ?? { rateLimit: 50, burstLimit: 100 };
    const api = new apigateway.RestApi(this, 'Api', {
      restApiName: 'kiln-agent-gateway',
      description: 'Kiln self-hosted agents: register, acquire, heartbeat, uploads, complete',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // TLS 1.2 is API Gateway's floor for REGIONAL endpoints; there is no plain-HTTP listener.
      deployOptions: {
        stageName: 'v1',
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: true,
        // Execution logs would need the account-wide API Gateway CloudWatch role; access logs cover each request.
        loggingLevel: apigateway.MethodLoggingLevel.OFF,
      },
      cloudWatchRole: false,
    });
    for (const spec of routes) {
      const fn = props.functions.get(spec.id);
      if (!fn || spec.trigger.kind !== 'api-route') continue;
      const resource = api.root.resourceForPath(spec.trigger.path);
      resource.addMethod(spec.trigger.method, new apigateway.LambdaIntegration(fn, { proxy: true }));
    }
    for (const rule of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) {
      acknowledge(
        api,
        rule,
        'Every route authenticates in its handler: a Kiln-Agent secret or Kiln-Job credential checked against its hash in the table, or the one-time registration token; an authorizer Lambda would read the same table again.',
      );
    }
    acknowledge(
      api,
      'AwsSolutions-APIG6',
      'Access logs record every request to an encrypted log group; execution logging needs an account-wide CloudWatch role this stack does not impose, and the handlers log their own decisions.',
    );
    acknowledge(
      api,
      'AwsSolutions-APIG2',
      'Each handler validates its body with the shared zod contract (aws/agent-gateway-contract.ts) and answers 400 with the field.',
    );
    acknowledge(
      api,
      'AwsSolutions-APIG3',
      'A regional API reached by registered on-prem agents only; throttled per stage. A WAF web ACL can be attached by the deployer.',
    );
    this.api = api;
    tagComponent(this, 'agent-gateway');
  }
}
