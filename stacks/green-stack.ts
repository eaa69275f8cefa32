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
 * blue's network and key and green's own parameter groups; with `greenGlobal`, a global database
 * made from it with a secondary in every other Region. Its own stack, so it comes and goes with an
 * upgrade (`greenClusters`) without touching the database stack.
 */
export class GreenStack extends TerraformStack {
  /** The green clone; none once green is retired (`greenClusters`). */
  public readonly clone?: AuroraClone;
  public readonly global?: GreenGlobalDatabase;
  /** Green's endpoints, for the sites once green is live; only a global green has a global writer endpoint. */
  public readonly endpoints?: DatabaseEndpoints;

  constructor(scope: Construct, env: EnvironmentConfig, database: DatabaseStack) {
    super(scope, greenStackName(env.name));
    addStateBackend(this, env.stateBackend);
    this.addDependency(database);
    const region = greenRegionOf(env);
    const providers = Object.fromEntries(env.regions.map((member) =>
      [member, new AwsProvider(this, `aws-${member}`, { region: member, alias: member, defaultTags: [{ tags: { ...environmentTags(env), BlueGreen: 'green' } }] })]));
    const provider = providers[region];
    // Blue's keys stay when blue's clusters are retired: green is encrypted with them.
    const blueResourcesIn = (regionName: string) => database.database.regionalResources.find((member) => member.region === regionName)!;
    const blue = blueResourcesIn(region);
    const network = database.networks[region];
    const green = slotIdentifiers(env.globalClusterIdentifier, 'green');

    const greenVersion = env.blueGreen.greenEngineVersion ?? env.engineVersion;
    const family = parameterGroupFamily(greenVersion);
    const blueFamily = parameterGroupFamily(env.engineVersion);
    const parameters = memberClusterParameters(env.blueGreen.subscribers, env.clusterParameters);
    // Green's own groups in every Region, of its family, whether its clusters are there or not: once
    // blue is retired or made again (of another version), nothing of green runs on blue's.
    const groups = Object.fromEntries(env.regions.map((member) => {
      const own = memberParameterGroups(new Construct(this, `green-parameters-${member}`), providers[member], green.member(member), family, parameters, { Name: `${env.globalClusterIdentifier} green ${family}` });
      return [member, { cluster: own.clusterParameterGroup.name, instance: own.instanceParameterGroup.name }];
    }));
    const greenGroups = groups[region];
    // A clone starts on blue's version: on blue's groups when green's family is another, until its in-place upgrade.
    const creationGroups = family === blueFamily ? greenGroups : { cluster: blue.clusterParameterGroup.name, instance: blue.instanceParameterGroup.name };
    if (family !== blueFamily) {
      new TerraformOutput(this, 'green_upgrade_parameter_groups', {
        value: { cluster: greenGroups.cluster, instance: greenGroups.instance, engineVersion: greenVersion },
        description: 'The groups of the new family for the in-place major upgrade of the green clone (see the README).',
      });
    }
    const { greenClusters } = env.blueGreen;
    if (greenClusters === 'retired') return;
    // Unprotected first, in an apply of its own: RDS refuses to delete a protected cluster.
    const deletionProtection = env.deletionProtection && greenClusters === 'kept';

    const clone = new AuroraClone(this, 'green', {
      provider,
      sourceClusterIdentifier: slotIdentifiers(env.globalClusterIdentifier, 'blue').member(region),
      cloneIdentifier: green.member(region),
      dbSubnetGroupName: network.dbSubnetGroupName,
      securityGroupIds: [network.securityGroup.id],
      kmsKeyArn: blue.kmsKey.arn,
      clusterParameterGroupName: creationGroups.cluster,
      instanceParameterGroupName: creationGroups.instance,
      instanceClass: env.instanceClass,
      instances: env.blueGreen.greenInstances,
      deletionProtection,
      backupRetentionDays: env.backupRetentionDays,
      performanceInsightsRetentionDays: env.performanceInsightsRetentionDays,
      engineVersion: greenVersion,
    });
    this.clone = clone;
    if (env.blueGreen.greenGlobal) {
      const others = env.regions.filter((candidate) => candidate !== region);
      this.global = new GreenGlobalDatabase(this, 'green-global', {
        provider,
        region,
        globalClusterIdentifier: green.globalClusterIdentifier,
        primary: clone.cluster,
        primaryInstances: clone.instances,
        engineVersion: greenVersion,
        secondaries: others.map((other) => {
          const otherNetwork = database.networks[other];
          return {
            provider: providers[other],
            region: other,
            clusterIdentifier: green.member(other),
            dbSubnetGroupName: otherNetwork.dbSubnetGroupName,
            securityGroupIds: [otherNetwork.securityGroup.id],
            kmsKeyArn: blueResourcesIn(other).kmsKey.arn,
            clusterParameterGroupName: groups[other].cluster,
            instanceParameterGroupName: groups[other].instance,
          };
        }),
        instanceClass: env.instanceClass,
        instances: env.blueGreen.greenInstances,
        deletionProtection,
        backupRetentionDays: env.backupRetentionDays,
        performanceInsightsRetentionDays: env.performanceInsightsRetentionDays,
      });
      const global = this.global;
      this.endpoints = {
        globalWriterEndpoint: global.globalWriterEndpoint,
        regionalWriterEndpoints: env.regions.map((member) => ({
          region: member,
          endpoint: member === region ? clone.cluster.endpoint : global.secondaries.find((secondary) => secondary.region === member)!.cluster.endpoint,
        })),
      };
      new TerraformOutput(this, 'green_global_writer_endpoint', {
        value: this.global.globalWriterEndpoint,
        description: 'Aurora\'s global writer endpoint of green: where the writer\'s name leads after the cut-over (global-writer target).',
      });
    }
    new TerraformOutput(this, 'green_writer_endpoint', {
      value: clone.cluster.endpoint,
      description: 'Writer endpoint of green: the host of BLUEGREEN_GREEN_URL, and where traffic goes at cut-over.',
    });
    new TerraformOutput(this, 'green_cluster_identifier', { value: clone.cluster.clusterIdentifier });
  }
}

export { greenStackName };
