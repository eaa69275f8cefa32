import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { Fn, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { GLOBAL_ENDPOINT_MOVED_EVENT, PAGING_EVENTS, WRITER_MOVED_EVENTS } from '../../functions/writer-dns/trigger';
import { assertProps, normalizeDnsName, pinRecordName, writerDnsHandlerNames } from '../core';

/** RDS cluster events the handler runs on: the writer may have moved, or the global writer endpoint did. */
export const WRITER_MOVED_EVENT_IDS = [...Object.keys(WRITER_MOVED_EVENTS), GLOBAL_ENDPOINT_MOVED_EVENT];

/** Events that page without the handler: a failed switchover or failover, write fencing that timed out. */
export const PAGING_EVENT_IDS = [...Object.keys(PAGING_EVENTS.cluster), ...Object.keys(PAGING_EVENTS.instance)];

/** Current Node.js Lambda runtime that AWS provider 5.100 accepts. */
export const HANDLER_RUNTIME = 'nodejs22.x';

export interface WriterFailoverHandlerProps {
  /** Provider of the Region the handler runs in. */
  readonly provider: AwsProvider;
  /** That Region's name. */
  readonly region: string;
  /** Bundled handler (`index.handler`), zipped at synth time. */
  readonly code: TerraformAsset;
  readonly globalClusterIdentifier: string;
  /** ARN of the global cluster, the only one the handler may describe. */
  readonly globalClusterArn: string;
  /** This Region's member cluster: its events trigger the handler, and it is the only cluster it describes. */
  readonly ownCluster: { readonly identifier: string; readonly arn: string };
  /** Identifiers of every member cluster; events of other clusters are ignored. */
  readonly memberClusterIdentifiers: readonly string[];
  readonly hostedZoneId: string;
  /** ARN of the hosted zone; the handler may change only `recordName` in it. */
  readonly hostedZoneArn: string;
  /** The record, lowercase, without the trailing dot. */
  readonly recordName: string;
  readonly recordTtlSeconds: number;
  /** What the record names: the writer cluster's endpoint or Aurora's global writer endpoint. @default 'global-writer' */
  readonly target?: 'regional-writer' | 'global-writer';
  /** Minutes between reconcile runs that catch missed events. @default 5 */
  readonly reconcileEveryMinutes?: number;
  /** Lambda timeout: how long a run may wait for a switchover or failover to settle. @default 240 */
  readonly timeoutSeconds?: number;
  /** Days the logs are kept. @default 30 */
  readonly logRetentionDays?: number;
  /** E-mail addresses subscribed to the alarm topic. @default [] */
  readonly alarmEmails?: readonly string[];
}

/**
 * The failover handler of one Region: a Lambda triggered by "writer moved" RDS events and by a
 * reconcile schedule, with least-privilege IAM, reserved concurrency 1, a dead-letter queue, and
 * alarms on errors and dead letters that notify an SNS topic.
 */
export class WriterFailoverHandler extends Construct {
  public readonly function: LambdaFunction;
  public readonly role: IamRole;
  public readonly deadLetterQueue: SqsQueue;
  public readonly alarmTopic: SnsTopic;
  public readonly writerMovedRule: CloudwatchEventRule;
  public readonly reconcileRule: CloudwatchEventRule;
  /** Pages the alarm topic on RDS-EVENT-0187, 0239 (cluster) and 0391 (instance). */
  public readonly pagingRule: CloudwatchEventRule;
  public readonly alarms: CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, props: WriterFailoverHandlerProps) {
    super(scope, id);
    const timeoutSeconds = props.timeoutSeconds ?? 240;
    const reconcileEveryMinutes = props.reconcileEveryMinutes ?? 5;
    assertProps(`WriterFailoverHandler ${id}`, [
      { failed: timeoutSeconds < 30 || timeoutSeconds > 900, message: `timeoutSeconds must be 30 to 900, is ${timeoutSeconds}` },
      { failed: reconcileEveryMinutes < 1, message: `reconcileEveryMinutes must be at least 1, is ${reconcileEveryMinutes}` },
      {
        failed: !props.memberClusterIdentifiers.includes(props.ownCluster.identifier),
        message: `memberClusterIdentifiers must include the own cluster ${props.ownCluster.identifier}`,
      },
    ]);
    const { provider } = props;
    const names = writerDnsHandlerNames(props.globalClusterIdentifier);
    const name = names.function.name;
    const partition = new DataAwsPartition(this, 'partition', { provider }).partition;

    const logGroup = new CloudwatchLogGroup(this, 'logs', {
      provider,
      name: `/aws/lambda/${name}`,
      retentionInDays: props.logRetentionDays ?? 30,
    });

    this.deadLetterQueue = new SqsQueue(this, 'dead-letters', {
      provider,
      name: names.deadLetterQueue.name,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 14 * 24 * 3600,
    });

    this.role = new IamRole(this, 'role', {
      provider,
      namePrefix: 'writer-dns-',
      description: `Writer DNS failover handler of ${props.globalClusterIdentifier} in ${props.region}`,
      assumeRolePolicy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    });
    const policy = new IamRolePolicy(this, 'permissions', {
      provider,
      name: 'writer-dns',
      role: this.role.id,
      policy: Fn.jsonencode(
        handlerPolicy({
          globalClusterArn: props.globalClusterArn,
          ownClusterArn: props.ownCluster.arn,
          hostedZoneArn: props.hostedZoneArn,
          recordName: props.recordName,
          changeArn: `arn:${partition}:route53:::change/*`,
          logGroupArn: logGroup.arn,
          deadLetterQueueArn: this.deadLetterQueue.arn,
        }),
      ),
    });

    this.function = new LambdaFunction(this, 'function', {
      provider,
      functionName: name,
      description: `Points ${props.recordName} at the writer of ${props.globalClusterIdentifier}`,
      role: this.role.arn,
      ...bundledFunction(props.code),
      timeout: timeoutSeconds,
      // One run at a time per Region: duplicate events queue instead of racing each other.
      reservedConcurrentExecutions: 1,
      deadLetterConfig: { targetArn: this.deadLetterQueue.arn },
      environment: {
        variables: {
          GLOBAL_CLUSTER_IDENTIFIER: props.globalClusterIdentifier,
          OWN_CLUSTER_IDENTIFIER: props.ownCluster.identifier,
          MEMBER_CLUSTER_IDENTIFIERS: props.memberClusterIdentifiers.join(','),
          HOSTED_ZONE_ID: props.hostedZoneId,
          RECORD_NAME: props.recordName,
          RECORD_TTL_SECONDS: String(props.recordTtlSeconds),
          WRITER_TARGET: props.target ?? 'global-writer',
        },
      },
      dependsOn: [logGroup, policy],
    });
    new LambdaFunctionEventInvokeConfig(this, 'async', {
      provider,
      functionName: this.function.functionName,
      maximumRetryAttempts: 2,
      // Older events say nothing the reconcile schedule does not; drop them to the dead-letter queue.
      maximumEventAgeInSeconds: 3600,
    });

    this.writerMovedRule = new CloudwatchEventRule(this, 'writer-moved', {
      provider,
      name: names.eventRule.name,
      description: `Global switchover or failover events of ${props.ownCluster.identifier}`,
      eventPattern: Fn.jsonencode({
        source: ['aws.rds'],
        'detail-type': ['RDS DB Cluster Event'],
        detail: { EventID: WRITER_MOVED_EVENT_IDS, SourceIdentifier: [props.ownCluster.identifier] },
      }),
    });
    this.reconcileRule = new CloudwatchEventRule(this, 'reconcile', {
      provider,
      name: names.scheduleRule.name,
      description: `Reconciles ${props.recordName} in case an RDS event was missed`,
      scheduleExpression: reconcileEveryMinutes === 1 ? 'rate(1 minute)' : `rate(${reconcileEveryMinutes} minutes)`,
    });
    for (const [ruleId, rule] of [['writer-moved', this.writerMovedRule], ['reconcile', this.reconcileRule]] as const) {
      new CloudwatchEventTarget(this, `${ruleId}-target`, {
        provider,
        rule: rule.name,
        arn: this.function.arn,
        retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 },
        deadLetterConfig: { arn: this.deadLetterQueue.arn },
      });
      new LambdaPermission(this, `${ruleId}-invoke`, {
        provider,
        statementId: `invoke-from-${ruleId}`,
        action: 'lambda:InvokeFunction',
        functionName: this.function.functionName,
        principal: 'events.amazonaws.com',
        sourceArn: rule.arn,
      });
    }
    // EventBridge puts events it could not deliver into the same dead-letter queue.
    new SqsQueuePolicy(this, 'dead-letters-policy', {
      provider,
      queueUrl: this.deadLetterQueue.url,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'EventBridgeDeadLetters',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: this.deadLetterQueue.arn,
            Condition: { ArnEquals: { 'aws:SourceArn': [this.writerMovedRule.arn, this.reconcileRule.arn] } },
          },
        ],
      }),
    });

    this.alarmTopic = alarmTopic(this, provider, `${name}-alarms`, props.alarmEmails ?? []);
    // A failed move or fencing that timed out pages straight from EventBridge: it needs no handler, and the handler cannot fix it.
    this.pagingRule = new CloudwatchEventRule(this, 'move-failed', {
      provider,
      name: names.pagingRule.name,
      description: `A global switchover or failover of ${props.ownCluster.identifier} failed, or blocking its writes timed out`,
      eventPattern: Fn.jsonencode({
        source: ['aws.rds'],
        'detail-type': ['RDS DB Cluster Event', 'RDS DB Instance Event'],
        detail: { EventID: PAGING_EVENT_IDS, SourceIdentifier: [props.ownCluster.identifier, { prefix: `${props.ownCluster.identifier}-` }] },
      }),
    });
    new CloudwatchEventTarget(this, 'move-failed-target', {
      provider,
      rule: this.pagingRule.name,
      arn: this.alarmTopic.arn,
      inputTransformer: {
        inputPaths: { id: '$.detail.EventID', source: '$.detail.SourceIdentifier', message: '$.detail.Message', time: '$.time', region: '$.region' },
        inputTemplate: `"<id> on <source> in <region> at <time>: <message> (global cluster ${props.globalClusterIdentifier}; see the operations CLI's status command)"`,
      },
    });
    new SnsTopicPolicy(this, 'alarms-policy', {
      provider,
      arn: this.alarmTopic.arn,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [{
          Sid: 'PagingEvents',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: this.alarmTopic.arn,
          Condition: { ArnEquals: { 'aws:SourceArn': this.pagingRule.arn } },
        }],
      }),
    });
    const onFirstOccurrence = { ...alarmOnFirstOccurrence(this.alarmTopic), okActions: [this.alarmTopic.arn] };
    this.alarms = [
      new CloudwatchMetricAlarm(this, 'errors-alarm', {
        provider,
        alarmName: `${name}-errors-${props.region}`,
        alarmDescription: `The writer DNS handler in ${props.region} failed: ${props.recordName} may not name the writer. See its logs.`,
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: { FunctionName: this.function.functionName },
        statistic: 'Sum',
        ...onFirstOccurrence,
      }),
      new CloudwatchMetricAlarm(this, 'dead-letters-alarm', {
        provider,
        alarmName: `${name}-dead-letters-${props.region}`,
        alarmDescription: `Events for the writer DNS handler in ${props.region} were dead-lettered; replay them from ${name}-dead-letters.`,
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: this.deadLetterQueue.name },
        statistic: 'Maximum',
        ...onFirstOccurrence,
      }),
    ];
  }
}

/** How every bundled function of this project runs: the zip synth built, on arm64, Node.js 22. */
export function bundledFunction(code: TerraformAsset) {
  return {
    runtime: HANDLER_RUNTIME,
    architectures: ['arm64'],
    handler: 'index.handler',
    filename: code.path,
    sourceCodeHash: Fn.filebase64sha256(code.path),
    memorySize: 256,
  };
}

/** Alarm settings for a count: any occurrence in a minute alarms; a quiet minute is healthy, not missing data. */
export function alarmOnFirstOccurrence(topic: SnsTopic) {
  return {
    period: 60,
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
    alarmActions: [topic.arn],
  };
}

/**
 * An SNS topic for alarms (or other messages to people), each address subscribed (each must confirm
 * its subscription). `ids` names the topic and its subscriptions in `scope`.
 */
export function alarmTopic(scope: Construct, provider: AwsProvider, name: string, emails: readonly string[], ids = { topic: 'alarms', email: 'alarm-email' }): SnsTopic {
  const topic = new SnsTopic(scope, ids.topic, { provider, name });
  emails.forEach((email, index) => {
    new SnsTopicSubscription(scope, `${ids.email}-${index + 1}`, { provider, topicArn: topic.arn, protocol: 'email', endpoint: email });
  });
  return topic;
}

/** The handler's IAM policy: no `*` action, and `*` in a resource only where AWS has no narrower ARN. */
export function handlerPolicy(arns: {
  globalClusterArn: string;
  ownClusterArn: string;
  hostedZoneArn: string;
  recordName: string;
  changeArn: string;
  logGroupArn: string;
  deadLetterQueueArn: string;
}) {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'DescribeTheGlobalCluster', Effect: 'Allow', Action: 'rds:DescribeGlobalClusters', Resource: arns.globalClusterArn },
      { Sid: 'DescribeTheOwnMemberCluster', Effect: 'Allow', Action: 'rds:DescribeDBClusters', Resource: arns.ownClusterArn },
      { Sid: 'ReadTheZone', Effect: 'Allow', Action: 'route53:ListResourceRecordSets', Resource: arns.hostedZoneArn },
      {
        // The record is replaced by DELETE of exactly what was read and CREATE, one change, so a
        // concurrent writer makes it fail instead of being overwritten; the pin is written with it.
        Sid: 'ReplaceOnlyTheWriterRecordAndItsPin',
        Effect: 'Allow',
        Action: 'route53:ChangeResourceRecordSets',
        Resource: arns.hostedZoneArn,
        Condition: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [normalizeDnsName(arns.recordName), pinRecordName(normalizeDnsName(arns.recordName))],
            'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME', 'TXT'],
            'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE'],
          },
        },
      },
      // DescribeEvents has no resource-level permissions; it only measures the global endpoint's delay.
      { Sid: 'ReadRdsEvents', Effect: 'Allow', Action: 'rds:DescribeEvents', Resource: '*' },
      // Change ids are made by Route 53 at write time, so no narrower ARN exists.
      { Sid: 'FollowItsChanges', Effect: 'Allow', Action: 'route53:GetChange', Resource: arns.changeArn },
      {
        Sid: 'WriteItsLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `${arns.logGroupArn}:*`,
      },
      { Sid: 'DeadLetterFailedEvents', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arns.deadLetterQueueArn },
    ],
  };
}
