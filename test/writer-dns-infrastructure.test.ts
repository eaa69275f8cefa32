import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { EnvironmentInput, parseEnvironment } from '../environments';
import { WriterDnsRecord, WriterDnsRecordProps } from '../modules/writer-dns-record';
import { handlerPolicy } from '../modules/writer-failover-handler';
import { DatabaseStack, bundleFunction } from '../stacks';
import { environmentInput } from './environment-fixtures';
import { StackJson, referencedName, resourcesOf, synthesize } from './synth';

const env = environmentInput('qa', { writerDns: { domain: 'example.internal', alarmEmails: ['oncall@example.com'] } });

function synthEnvironment(change: Partial<EnvironmentInput['writerDns']> = {}): StackJson {
  const config = parseEnvironment({ ...env, writerDns: { ...env.writerDns, ...change } });
  return synthesize(new DatabaseStack(Testing.app(), config, { writerDnsBundle: bundleFunction('writer-dns') }));
}

const inRegion = (json: StackJson, type: string, region: string) =>
  resourcesOf(json, type).filter(({ config }) => config.provider === `aws.${region}`);

describe('WriterDnsRecord', () => {
  describe('GIVEN the default private zone', () => {
    const json = synthEnvironment();
    const [zone] = resourcesOf(json, 'aws_route53_zone');
    const [record] = resourcesOf(json, 'aws_route53_record');

    test('THEN the zone is aurora-global.<domain>, so it shadows no other name of the domain', () => {
      expect(zone.config.name).toBe('aurora-global.example.internal');
    });

    test('THEN the zone answers in every Aurora VPC: the first inline, the others by association', () => {
      const vpcs = json.resource.aws_vpc;
      const vpcOf = (reference: string) => vpcs[referencedName(reference, 'aws_vpc')].provider;
      expect(zone.config.vpc.map((vpc: { vpc_id: string; vpc_region: string }) => [vpcOf(vpc.vpc_id), vpc.vpc_region])).toEqual([['aws.eu-west-1', 'eu-west-1']]);
      expect(zone.config.lifecycle.ignore_changes).toEqual(['vpc']);
      const associations = resourcesOf(json, 'aws_route53_zone_association');
      expect(associations.map(({ config }) => [vpcOf(config.vpc_id), config.vpc_region])).toEqual([['aws.eu-central-1', 'eu-central-1']]);
    });

    test('THEN the CNAME starts on the global writer endpoint (the default) with a 5 s TTL, and Terraform never moves it back', () => {
      expect(record.config).toMatchObject({
        name: 'keycloak-qa.aurora-global.example.internal',
        type: 'CNAME',
        ttl: 5,
        records: [expect.stringMatching(/^\$\{aws_rds_global_cluster\.[^.]+\.endpoint\}$/)],
        lifecycle: { ignore_changes: ['records'] },
      });
      expect(record.config).not.toHaveProperty('allow_overwrite');
    });
  });

  test('WHEN the regional writer is chosen THEN the record starts on the primary cluster\'s endpoint', () => {
    const json = synthEnvironment({ target: 'regional-writer', ttlSeconds: 10 });
    const [record] = resourcesOf(json, 'aws_route53_record');
    const primary = inRegion(json, 'aws_rds_cluster', 'eu-west-1')[0];
    expect(record.config.records).toEqual([`\${aws_rds_cluster.${primary.name}.endpoint}`]);
    expect(record.config.ttl).toBe(10);
  });

  test('WHEN a public zone is chosen THEN it has no VPC', () => {
    const json = synthEnvironment({ zone: { type: 'public' } });
    const [zone] = resourcesOf(json, 'aws_route53_zone');
    expect(zone.config).not.toHaveProperty('vpc');
    expect(resourcesOf(json, 'aws_route53_zone_association')).toEqual([]);
  });

  test('WHEN an existing zone is chosen THEN no zone is created and the record and IAM use its id', () => {
    const json = synthEnvironment({ zone: { type: 'existing', zoneId: 'Z0ABCDEF123456', zoneName: 'example.internal' } });
    expect(resourcesOf(json, 'aws_route53_zone')).toEqual([]);
    expect(resourcesOf(json, 'aws_route53_record')[0].config).toMatchObject({ zone_id: 'Z0ABCDEF123456', name: 'keycloak-qa.aurora-global.example.internal' });
    const policy = resourcesOf(json, 'aws_iam_role_policy')[0].config.policy as string;
    expect(policy).toContain(':route53:::hostedzone/Z0ABCDEF123456');
  });

  describe('WHEN props break the rules', () => {
    const synthRecord = (props: Partial<WriterDnsRecordProps>) => {
      const stack = new TerraformStack(Testing.app(), 'test');
      new WriterDnsRecord(stack, 'dns', {
        provider: new AwsProvider(stack, 'aws', { region: 'eu-west-1' }),
        recordName: 'db.aurora-global.example.internal',
        zone: { type: 'public', zoneName: 'aurora-global.example.internal' },
        initialTarget: 'writer.example',
        ...props,
      });
    };
    test.each<[string, Partial<WriterDnsRecordProps>, RegExp]>([
      ['a record outside the zone', { recordName: 'db.example.com' }, /recordName db.example.com is not inside zone aurora-global.example.internal/],
      ['an uppercase name', { recordName: 'DB.aurora-global.example.internal' }, /recordName DB.aurora-global.example.internal must be a lowercase DNS name/],
      ['a private zone without VPCs', { zone: { type: 'private', zoneName: 'aurora-global.example.internal', vpcs: [] } }, /a private zone needs at least one VPC/],
      ['a zero TTL', { ttlSeconds: 0 }, /ttlSeconds must be a whole number of seconds >= 1, is 0/],
    ])('THEN %s is refused', (_rule, props, expected) => {
      expect(() => synthRecord(props)).toThrow(expected);
    });
  });
});

describe('WriterFailoverHandler', () => {
  const json = synthEnvironment();
  const regions = ['eu-west-1', 'eu-central-1'];

  test('THEN every Region of the global cluster has one arm64 Node.js 22 function with reserved concurrency 1', () => {
    for (const region of regions) {
      const functions = inRegion(json, 'aws_lambda_function', region);
      expect(functions).toHaveLength(1);
      expect(functions[0].config).toMatchObject({
        function_name: 'keycloak-qa-writer-dns',
        runtime: 'nodejs22.x',
        architectures: ['arm64'],
        handler: 'index.handler',
        reserved_concurrent_executions: 1,
        timeout: 240,
        filename: expect.stringMatching(/^assets\/writer-dns-code\/[0-9a-f]{64}\/writer-dns\.zip$/),
        source_code_hash: expect.stringMatching(/^\$\{filebase64sha256\("assets\/writer-dns-code\/.+\.zip"\)\}$/),
      });
      expect(functions[0].config.environment.variables).toEqual({
        GLOBAL_CLUSTER_IDENTIFIER: 'keycloak-qa',
        OWN_CLUSTER_IDENTIFIER: `keycloak-qa-${region}`,
        MEMBER_CLUSTER_IDENTIFIERS: 'keycloak-qa-eu-west-1,keycloak-qa-eu-central-1',
        HOSTED_ZONE_ID: expect.stringMatching(/^\$\{aws_route53_zone\..+\.zone_id\}$/),
        RECORD_NAME: 'keycloak-qa.aurora-global.example.internal',
        RECORD_TTL_SECONDS: '5',
        WRITER_TARGET: 'global-writer',
      });
    }
  });

  test("THEN the event rule matches only the writer-moved events of the Region's own member cluster", () => {
    for (const region of regions) {
      const rules = inRegion(json, 'aws_cloudwatch_event_rule', region);
      const eventRule = rules.find(({ config }) => config.name === 'keycloak-qa-dns-event')!;
      const pattern = eventRule.config.event_pattern as string;
      expect(pattern).toMatch(/^\$\{jsonencode\(/);
      for (const fragment of ['"source" = ["aws.rds"]', '"detail-type" = ["RDS DB Cluster Event"]',
        '"EventID" = ["RDS-EVENT-0185", "RDS-EVENT-0238", "RDS-EVENT-0519", "RDS-EVENT-0397"]', `"SourceIdentifier" = ["keycloak-qa-${region}"]`]) {
        expect(pattern).toContain(fragment);
      }
      const schedule = rules.find(({ config }) => config.schedule_expression)!;
      expect(schedule.config).toMatchObject({ name: 'keycloak-qa-dns-schedule', schedule_expression: 'rate(5 minutes)' });
    }
  });

  test('THEN a failed switchover or failover, and write fencing that timed out, page the alarm topic straight from EventBridge', () => {
    for (const region of regions) {
      const rule = inRegion(json, 'aws_cloudwatch_event_rule', region).find(({ config }) => config.name === 'keycloak-qa-move-failed')!;
      for (const fragment of ['"detail-type" = ["RDS DB Cluster Event", "RDS DB Instance Event"]', '"EventID" = ["RDS-EVENT-0187", "RDS-EVENT-0239", "RDS-EVENT-0391"]',
        `"SourceIdentifier" = ["keycloak-qa-${region}", {"prefix" = "keycloak-qa-${region}-"}]`]) {
        expect(rule.config.event_pattern).toContain(fragment);
      }
      const [topic] = inRegion(json, 'aws_sns_topic', region);
      const target = inRegion(json, 'aws_cloudwatch_event_target', region).find(({ config }) => referencedName(config.rule, 'aws_cloudwatch_event_rule') === rule.name)!;
      expect(target.config.arn).toBe(`\${aws_sns_topic.${topic.name}.arn}`);
      expect(target.config.input_transformer.input_template).toMatch(/<id> on <source> in <region> at <time>: <message>/);
      const [policy] = inRegion(json, 'aws_sns_topic_policy', region);
      expect(policy.config.policy).toContain('"Service" = "events.amazonaws.com"');
      expect(policy.config.policy).toContain(`aws_cloudwatch_event_rule.${rule.name}.arn`);
    }
  });

  test('THEN the handler\'s rules target the function with retries and a dead-letter queue, and may invoke it', () => {
    for (const region of regions) {
      const [fn] = inRegion(json, 'aws_lambda_function', region);
      const [queue] = inRegion(json, 'aws_sqs_queue', region);
      const handlerRules = inRegion(json, 'aws_cloudwatch_event_rule', region).filter(({ config }) => config.name !== 'keycloak-qa-move-failed');
      const targets = inRegion(json, 'aws_cloudwatch_event_target', region).filter(({ config }) => handlerRules.some(({ name }) => referencedName(config.rule, 'aws_cloudwatch_event_rule') === name));
      expect(targets).toHaveLength(2);
      for (const { config } of targets) {
        expect(config.arn).toBe(`\${aws_lambda_function.${fn.name}.arn}`);
        expect(config.dead_letter_config).toEqual({ arn: `\${aws_sqs_queue.${queue.name}.arn}` });
        expect(config.retry_policy).toEqual({ maximum_event_age_in_seconds: 3600, maximum_retry_attempts: 10 });
      }
      const permissions = inRegion(json, 'aws_lambda_permission', region);
      expect(permissions.map(({ config }) => config.principal)).toEqual(['events.amazonaws.com', 'events.amazonaws.com']);
      expect(permissions.map(({ config }) => referencedName(config.source_arn, 'aws_cloudwatch_event_rule')).sort()).toEqual(
        handlerRules.map(({ name }) => name).sort(),
      );
    }
  });

  test('THEN failed invocations are retried twice and then dead-lettered to an encrypted queue', () => {
    for (const region of regions) {
      const [fn] = inRegion(json, 'aws_lambda_function', region);
      const [queue] = inRegion(json, 'aws_sqs_queue', region);
      expect(fn.config.dead_letter_config).toEqual({ target_arn: `\${aws_sqs_queue.${queue.name}.arn}` });
      expect(queue.config).toMatchObject({ name: 'keycloak-qa-writer-dns-dead-letters', sqs_managed_sse_enabled: true });
      expect(inRegion(json, 'aws_lambda_function_event_invoke_config', region)[0].config).toMatchObject({ maximum_retry_attempts: 2 });
      const queuePolicy = inRegion(json, 'aws_sqs_queue_policy', region)[0].config.policy as string;
      expect(queuePolicy).toContain('"Principal" = {"Service" = "events.amazonaws.com"}, "Action" = "sqs:SendMessage"');
      expect(queuePolicy).toMatch(/"aws:SourceArn" = \[aws_cloudwatch_event_rule\.[^.]+\.arn, aws_cloudwatch_event_rule\.[^.]+\.arn\]/);
    }
  });

  test('THEN logs are kept 30 days in a group made before the function', () => {
    for (const region of regions) {
      const [group] = inRegion(json, 'aws_cloudwatch_log_group', region);
      const [fn] = inRegion(json, 'aws_lambda_function', region);
      expect(group.config).toMatchObject({ name: '/aws/lambda/keycloak-qa-writer-dns', retention_in_days: 30 });
      expect(fn.config.depends_on).toContain(`aws_cloudwatch_log_group.${group.name}`);
    }
  });

  test('THEN errors and dead letters alarm to an SNS topic that e-mails the operators', () => {
    for (const region of regions) {
      const [topic] = inRegion(json, 'aws_sns_topic', region);
      const topicArn = `\${aws_sns_topic.${topic.name}.arn}`;
      const alarms = inRegion(json, 'aws_cloudwatch_metric_alarm', region).map(({ config }) => config);
      expect(alarms.map((alarm) => [alarm.namespace, alarm.metric_name, alarm.threshold, alarm.comparison_operator])).toEqual(
        expect.arrayContaining([
          ['AWS/Lambda', 'Errors', 1, 'GreaterThanOrEqualToThreshold'],
          ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 1, 'GreaterThanOrEqualToThreshold'],
        ]),
      );
      for (const alarm of alarms) {
        expect(alarm.alarm_actions).toEqual([topicArn]);
        expect(alarm.ok_actions).toEqual([topicArn]);
      }
      expect(inRegion(json, 'aws_sns_topic_subscription', region).map(({ config }) => [config.protocol, config.endpoint])).toEqual([
        ['email', 'oncall@example.com'],
      ]);
    }
  });

  describe('its IAM policy', () => {
    const arns = {
      globalClusterArn: 'arn:aws:rds::123456789012:global-cluster:keycloak-qa',
      ownClusterArn: 'arn:aws:rds:eu-west-1:123456789012:cluster:keycloak-qa-eu-west-1',
      hostedZoneArn: 'arn:aws:route53:::hostedzone/Z0ABCDEF123456',
      recordName: 'Keycloak-QA.aurora-global.example.internal.',
      changeArn: 'arn:aws:route53:::change/*',
      logGroupArn: 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/keycloak-qa-writer-dns',
      deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:keycloak-qa-writer-dns-dead-letters',
    };
    const statements = handlerPolicy(arns).Statement;
    const bySid = Object.fromEntries(statements.map((statement) => [statement.Sid, statement]));

    test('THEN no statement allows a * action', () => {
      for (const { Action } of statements) expect([Action].flat().join(' ')).not.toContain('*');
    });

    test('THEN it may describe only the global cluster and its own member cluster', () => {
      expect(bySid.DescribeTheGlobalCluster).toMatchObject({ Action: 'rds:DescribeGlobalClusters', Resource: arns.globalClusterArn });
      expect(bySid.DescribeTheOwnMemberCluster).toMatchObject({ Action: 'rds:DescribeDBClusters', Resource: arns.ownClusterArn });
    });

    test('THEN it may replace only the writer CNAME and its pin, named as IAM normalises them, and read only that zone', () => {
      expect(bySid.ReplaceOnlyTheWriterRecordAndItsPin).toEqual({
        Sid: 'ReplaceOnlyTheWriterRecordAndItsPin',
        Effect: 'Allow',
        Action: 'route53:ChangeResourceRecordSets',
        Resource: arns.hostedZoneArn,
        Condition: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['keycloak-qa.aurora-global.example.internal', '_writer-pin.keycloak-qa.aurora-global.example.internal'],
            'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME', 'TXT'],
            'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE'],
          },
        },
      });
      expect(bySid.ReadTheZone).toMatchObject({ Action: 'route53:ListResourceRecordSets', Resource: arns.hostedZoneArn });
    });

    test('THEN a * resource appears only for RDS events, Route 53 change ids and the log group\'s streams, which have no narrower ARN', () => {
      expect(statements.filter(({ Resource }) => Resource.includes('*')).map(({ Sid }) => Sid)).toEqual(['ReadRdsEvents', 'FollowItsChanges', 'WriteItsLogs']);
      expect(bySid.WriteItsLogs.Resource).toBe(`${arns.logGroupArn}:*`);
      expect(bySid.DeadLetterFailedEvents).toMatchObject({ Action: 'sqs:SendMessage', Resource: arns.deadLetterQueueArn });
    });

    test("THEN each Region's policy names that Region's own cluster, log group and queue", () => {
      for (const region of regions) {
        const policy = inRegion(json, 'aws_iam_role_policy', region)[0].config.policy as string;
        const [cluster] = inRegion(json, 'aws_rds_cluster', region);
        const [group] = inRegion(json, 'aws_cloudwatch_log_group', region);
        const [queue] = inRegion(json, 'aws_sqs_queue', region);
        expect(policy).toContain(`"Action" = "rds:DescribeDBClusters", "Resource" = aws_rds_cluster.${cluster.name}.arn}`);
        expect(policy).toMatch(/"Action" = "rds:DescribeGlobalClusters", "Resource" = aws_rds_global_cluster\.[^.]+\.arn}/);
        expect(policy).toMatch(/"Action" = "route53:ChangeResourceRecordSets", "Resource" = aws_route53_zone\.[^.]+\.arn,/);
        expect(policy).toContain(`"Resource" = "\${aws_cloudwatch_log_group.${group.name}.arn}:*"`);
        expect(policy).toContain(`"Action" = "sqs:SendMessage", "Resource" = aws_sqs_queue.${queue.name}.arn}`);
      }
    });
  });
});
