import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { TerraformAsset, TerraformOutput, TerraformStack, AssetType } from 'cdktf';
import { Construct } from 'constructs';
import { EnvironmentConfig, liveDatabase } from '../environments/schema';
import { drParameterNames, drStackName } from '../modules/core';
import { ownPlan } from '../functions/dr-orchestrator/plan';
import { DrOrchestrator } from '../modules/dr-orchestrator';
import { addStateBackend } from '../modules/state-backend';
import { environmentTags } from './database-stack';
import type { FunctionBundle } from './function-bundle';

export interface DrStackProps {
  /** The bundled `functions/dr-orchestrator`. */
  readonly bundle: FunctionBundle;
}

/**
 * An environment's DR orchestrator in every one of its Regions, so a run starts in whichever Region
 * survives; and the environment's identifiers as SSM parameters in every Region, for plans to name.
 * Its own stack: it needs nothing of the database stack, and changes without touching it.
 */
export class DrStack extends TerraformStack {
  public readonly orchestrators: Record<string, DrOrchestrator> = {};

  constructor(scope: Construct, env: EnvironmentConfig, props: DrStackProps) {
    super(scope, drStackName(env.name));
    addStateBackend(this, env.stateBackend);
    const code = new TerraformAsset(this, 'dr-orchestrator-code', { path: props.bundle.zipFile, type: AssetType.FILE });
    const parameters = drParameterNames(env.name, env.regions);
    // The plans move the live database: blue's, or once green is live, green's.
    const live = liveDatabase(env);
    for (const region of env.regions) {
      const provider = new AwsProvider(this, `aws-${region}`, { region, alias: region, defaultTags: [{ tags: environmentTags(env) }] });
      const orchestrator = new DrOrchestrator(this, `dr-${region}`, {
        provider,
        region,
        name: env.globalClusterIdentifier,
        code,
        logRetentionDays: env.writerDns.logRetentionDays,
        alarmEmails: env.writerDns.alarmEmails,
        customFunctionArns: env.drOrchestrator.customFunctionArns,
        approvalTopicArns: env.drOrchestrator.approvalTopicArns,
        maxReplicationLagSeconds: env.drOrchestrator.maxReplicationLagSeconds,
        // A run starts in the Region it moves the writer to: that Region's own plans are checked there.
        plansPath: parameters.plans,
        plans: {
          [`switchover-to-${region}`]: ownPlan({ ...env, globalClusterIdentifier: live.globalClusterIdentifier }, region, 'switchover'),
          [`failover-to-${region}`]: ownPlan({ ...env, globalClusterIdentifier: live.globalClusterIdentifier }, region, 'failover'),
        },
      });
      this.orchestrators[region] = orchestrator;
      const partition = new DataAwsPartition(this, `partition-${region}`, { provider }).partition;
      const account = new DataAwsCallerIdentity(this, `account-${region}`, { provider }).accountId;
      new SsmParameter(this, `global-cluster-identifier-${region}`, {
        provider,
        name: parameters.globalClusterIdentifier,
        type: 'String',
        value: live.globalClusterIdentifier,
        description: `Global cluster of environment ${env.name}, for DR plans (!Ssm)`,
      });
      for (const member of env.regions) {
        new SsmParameter(this, `cluster-arn-${member}-in-${region}`, {
          provider,
          name: parameters.clusterArns[member],
          type: 'String',
          value: `arn:${partition}:rds:${member}:${account}:cluster:${live.member(member)}`,
          description: `Member cluster of ${live.globalClusterIdentifier} in ${member}, for DR plans (!Ssm)`,
        });
      }
      new TerraformOutput(this, `state_machine_arn_${region.replace(/-/g, '_')}`, { value: orchestrator.stateMachine.arn });
    }
  }
}

export { drStackName };
