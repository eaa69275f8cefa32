import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { EnvironmentConfig, greenRegionOf } from '../environments/schema';
import { AuroraClone } from '../modules/aurora-clone';
import { memberClusterParameters, memberParameterGroups } from '../modules/aurora-global-database';
import { greenStackName, parameterGroupFamily, slotIdentifiers } from '../modules/core';
import { GreenGlobalDatabase } from '../modules/green-global-database';
import { addStateBackend } from '../modules/state-backend';
import { DatabaseEndpoints, DatabaseStack, environmentTags } from './database-stack';


/**
 * The green of a blue/green upgrade: a copy-on-write clone of blue's cluster in one Region, on
 * blue's network, key and parameter groups; with `greenGlobal`, a global database made from it with
 * a secondary in every other Region. Its own stack, so it comes and goes with an upgrade without
 * touching the database stack.
 */
export class GreenStack extends TerraformStack {
  public readonly clone: AuroraClone;
  public readonly global?: GreenGlobalDatabase;
  /** Green's endpoints, for the sites once green is live; only a global green has a global writer endpoint. */
  public readonly endpoints?: DatabaseEndpoints;

  constructor(scope: Construct, env: EnvironmentConfig, database: DatabaseStack) {
    super(scope, greenStackName(env.name));
    addStateBackend(this, env.stateBackend);
    this.addDependency(database);
    const region = greenRegionOf(env);
    const provider = new AwsProvider(this, `aws-${region}`, { region, alias: region, defaultTags: [{ tags: { ...environmentTags(env), BlueGreen: 'green' } }] });
    // Blue's key and parameter groups stay when blue's clusters are retired: green uses them.
    const blueResourcesIn = (regionName: string) => database.database.regionalResources.find((member) => member.region === regionName)!;
    const blue = blueResourcesIn(region);
    const network = database.networks[region];
    const green = slotIdentifiers(env.globalClusterIdentifier, 'green');

    this.clone = new AuroraClone(this, 'green', {
      provider,
      sourceClusterIdentifier: slotIdentifiers(env.globalClusterIdentifier, 'blue').member(region),
      cloneIdentifier: green.member(region),
      dbSubnetGroupName: network.dbSubnetGroupName,
      securityGroupIds: [network.securityGroup.id],
      kmsKeyArn: blue.kmsKey.arn,
      clusterParameterGroupName: blue.clusterParameterGroup.name,
      instanceParameterGroupName: blue.instanceParameterGroup.name,
      instanceClass: env.instanceClass,
      instances: env.blueGreen.greenInstances,
      deletionProtection: env.deletionProtection,
      backupRetentionDays: env.backupRetentionDays,
      performanceInsightsRetentionDays: env.performanceInsightsRetentionDays,
    });
    const greenVersion = env.blueGreen.greenEngineVersion ?? env.engineVersion;
    const family = parameterGroupFamily(greenVersion);
    const blueFamily = env.parameterGroupFamily ?? parameterGroupFamily(env.engineVersion);
    const parameters = memberClusterParameters(env.blueGreen.subscribers, env.clusterParameters);
    /** Green's parameter groups in a Region: blue's when the family is the same, else its own of the new family. */
    const groupsIn = (regionName: string, regionProvider: AwsProvider) => {
      const member = blueResourcesIn(regionName);
      if (family === blueFamily) return { cluster: member.clusterParameterGroup.name, instance: member.instanceParameterGroup.name };
      const own = memberParameterGroups(new Construct(this, `green-parameters-${regionName}`), regionProvider, green.member(regionName), family, parameters, { Name: `${env.globalClusterIdentifier} green ${family}` });
      return { cluster: own.clusterParameterGroup.name, instance: own.instanceParameterGroup.name };
    };
    const greenGroups = groupsIn(region, provider);
    if (family !== blueFamily) {
      new TerraformOutput(this, 'green_upgrade_parameter_groups', {
        value: { cluster: greenGroups.cluster, instance: greenGroups.instance, engineVersion: greenVersion },
        description: 'The groups of the new family for the in-place major upgrade of the green clone (see the README).',
      });
    }
    if (env.blueGreen.greenGlobal) {
      const others = env.regions.filter((candidate) => candidate !== region);
      this.global = new GreenGlobalDatabase(this, 'green-global', {
        provider,
        region,
        globalClusterIdentifier: green.globalClusterIdentifier,
        primary: this.clone.cluster,
        primaryInstances: this.clone.instances,
        engineVersion: greenVersion,
        secondaries: others.map((other) => {
          const otherProvider = new AwsProvider(this, `aws-${other}`, { region: other, alias: other, defaultTags: [{ tags: { ...environmentTags(env), BlueGreen: 'green' } }] });
          const otherNetwork = database.networks[other];
          const groups = groupsIn(other, otherProvider);
          return {
            provider: otherProvider,
            region: other,
            clusterIdentifier: green.member(other),
            dbSubnetGroupName: otherNetwork.dbSubnetGroupName,
            securityGroupIds: [otherNetwork.securityGroup.id],
            kmsKeyArn: blueResourcesIn(other).kmsKey.arn,
            clusterParameterGroupName: groups.cluster,
            instanceParameterGroupName: groups.instance,
          };
        }),
        instanceClass: env.instanceClass,
        instances: env.blueGreen.greenInstances,
        deletionProtection: env.deletionProtection,
        backupRetentionDays: env.backupRetentionDays,
        performanceInsightsRetentionDays: env.performanceInsightsRetentionDays,
      });
      const global = this.global;
      this.endpoints = {
        globalWriterEndpoint: global.globalWriterEndpoint,
        regionalWriterEndpoints: env.regions.map((member) => ({
          region: member,
          endpoint: member === region ? this.clone.cluster.endpoint : global.secondaries.find((secondary) => secondary.region === member)!.cluster.endpoint,
        })),
      };
      new TerraformOutput(this, 'green_global_writer_endpoint', {
        value: this.global.globalWriterEndpoint,
        description: 'Aurora\'s global writer endpoint of green: where the writer\'s name leads after the cut-over (global-writer target).',
      });
    }
    new TerraformOutput(this, 'green_writer_endpoint', {
      value: this.clone.cluster.endpoint,
      description: 'Writer endpoint of green: the host of BLUEGREEN_GREEN_URL, and where traffic goes at cut-over.',
    });
    new TerraformOutput(this, 'green_cluster_identifier', { value: this.clone.cluster.clusterIdentifier });
  }
}

export { greenStackName };
