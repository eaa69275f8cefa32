import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Route } from '@cdktf/provider-aws/lib/route';
import { VpcPeeringConnection } from '@cdktf/provider-aws/lib/vpc-peering-connection';
import { VpcPeeringConnectionAccepterA } from '@cdktf/provider-aws/lib/vpc-peering-connection-accepter';
import { VpcPeeringConnectionOptions } from '@cdktf/provider-aws/lib/vpc-peering-connection-options';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Construct } from 'constructs';
import { assertProps, cidrProblem, cidrsOverlap } from '../core';

/** The Keycloak site's side: an existing VPC of a Kubernetes cluster. It requests the peering. */
export interface PeeringSite {
  readonly name: string;
  readonly provider: AwsProvider;
  readonly region: string;
  readonly vpcId: string;
  readonly cidr: string;
  /** Route tables of the cluster's nodes; each gets a route to the Aurora VPC. */
  readonly routeTableIds: readonly string[];
}

/** The Aurora side: one regional Aurora VPC. It accepts the peering. */
export interface PeeringAurora {
  readonly provider: AwsProvider;
  readonly region: string;
  readonly vpcId: string;
  readonly cidr: string;
  readonly routeTableId: string;
  /** Security group of the Aurora instances; it gets ingress from the site's CIDR only. */
  readonly securityGroupId: string;
}

export interface SitePeeringProps {
  readonly site: PeeringSite;
  readonly aurora: PeeringAurora;
  /** Port the site may reach. @default 5432 */
  readonly port?: number;
}

/**
 * Connects one Keycloak site to one regional Aurora VPC: a peering connection (same or cross
 * Region), routes on both sides, DNS resolution across it, and PostgreSQL ingress from the site only.
 */
export class SitePeering extends Construct {
  public readonly connection: VpcPeeringConnection;

  constructor(scope: Construct, id: string, props: SitePeeringProps) {
    super(scope, id);
    const { site, aurora } = props;
    const port = props.port ?? 5432;
    const badCidr = [site.cidr, aurora.cidr].find((cidr) => cidrProblem(cidr));
    assertProps(`SitePeering ${id}`, [
      { failed: badCidr !== undefined, message: `${badCidr} ${badCidr && cidrProblem(badCidr)}` },
      {
        failed: !badCidr && cidrsOverlap(site.cidr, aurora.cidr),
        message: `site ${site.name} (${site.cidr}) overlaps the Aurora VPC in ${aurora.region} (${aurora.cidr})`,
      },
      { failed: site.routeTableIds.length === 0, message: `site ${site.name} needs at least one route table` },
    ]);
    const label = `${site.name}-to-aurora-${aurora.region}`;

    this.connection = new VpcPeeringConnection(this, 'connection', {
      provider: site.provider,
      vpcId: site.vpcId,
      peerVpcId: aurora.vpcId,
      peerRegion: aurora.region,
      // The Aurora side accepts explicitly, which works within a Region and across Regions alike.
      autoAccept: false,
      tags: { Name: label },
    });
    const accepter = new VpcPeeringConnectionAccepterA(this, 'accepter', {
      provider: aurora.provider,
      vpcPeeringConnectionId: this.connection.id,
      autoAccept: true,
      tags: { Name: label },
    });
    const active = [accepter];

    // Each side sets its own options with its own Region's provider, which cross-Region peering needs.
    new VpcPeeringConnectionOptions(this, 'site-dns', {
      provider: site.provider,
      vpcPeeringConnectionId: accepter.id,
      requester: { allowRemoteVpcDnsResolution: true },
    });
    new VpcPeeringConnectionOptions(this, 'aurora-dns', {
      provider: aurora.provider,
      vpcPeeringConnectionId: accepter.id,
      accepter: { allowRemoteVpcDnsResolution: true },
    });

    site.routeTableIds.forEach((routeTableId, index) => {
      new Route(this, `site-route-${index + 1}`, {
        provider: site.provider,
        routeTableId,
        destinationCidrBlock: aurora.cidr,
        vpcPeeringConnectionId: this.connection.id,
        dependsOn: active,
      });
    });
    new Route(this, 'aurora-route', {
      provider: aurora.provider,
      routeTableId: aurora.routeTableId,
      destinationCidrBlock: site.cidr,
      vpcPeeringConnectionId: this.connection.id,
      dependsOn: active,
    });

    new VpcSecurityGroupIngressRule(this, 'postgres-from-site', {
      provider: aurora.provider,
      securityGroupId: aurora.securityGroupId,
      description: `PostgreSQL from Keycloak site ${site.name}`,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      cidrIpv4: site.cidr,
      tags: { Name: `${site.name}-postgres` },
    });
  }
}
