import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { assertProps, cidrProblem, parseCidr, subdivideCidr } from '../core';

export interface AuroraNetworkProps {
  /** Provider of the Region the network is built in. */
  readonly provider: AwsProvider;
  /** Name of the network's resources; the regional cluster identifier reads best. */
  readonly name: string;
  /** CIDR block of the VPC, /16 to /24; it must not overlap any VPC that will peer with it. */
  readonly cidrBlock: string;
  /**
   * Availability zones to place one private subnet in; the Region's first zones (opt-in zones excluded).
   * @default 3
   */
  readonly availabilityZoneCount?: number;
  /** Tags added to every resource of the network. @default {} */
  readonly tags?: Record<string, string>;
}

/**
 * A private VPC for one regional Aurora cluster: a subnet per availability zone sharing one
 * route table, a DB subnet group, and a security group that admits nothing until a peering adds ingress.
 */
export class AuroraNetwork extends Construct {
  public readonly vpc: Vpc;
  /** CIDR block of the VPC. */
  public readonly cidrBlock: string;
  /** Route table of every subnet; peering adds its routes here. */
  public readonly routeTable: RouteTable;
  public readonly subnets: Subnet[];
  /** Name of the DB subnet group spanning every subnet. */
  public readonly dbSubnetGroupName: string;
  /** Security group of the Aurora instances; it has no rules of its own. */
  public readonly securityGroup: SecurityGroup;
  /** Availability zone of each subnet, in subnet order. */
  public readonly availabilityZones: string[];

  constructor(scope: Construct, id: string, props: AuroraNetworkProps) {
    super(scope, id);
    const zoneCount = props.availabilityZoneCount ?? 3;
    const cidrIssue = cidrProblem(props.cidrBlock);
    const vpcPrefix = cidrIssue ? 0 : parseCidr(props.cidrBlock).prefixLength;
    const subnetPrefix = vpcPrefix + Math.ceil(Math.log2(zoneCount));
    assertProps(`AuroraNetwork ${id}`, [
      { failed: cidrIssue !== undefined, message: `cidrBlock ${props.cidrBlock} ${cidrIssue}` },
      { failed: !cidrIssue && (vpcPrefix < 16 || vpcPrefix > 24), message: `cidrBlock must be /16 to /24, is /${vpcPrefix}` },
      { failed: !Number.isInteger(zoneCount) || zoneCount < 3 || zoneCount > 6, message: `availabilityZoneCount must be 3 to 6, is ${zoneCount}` },
    ]);
    const { provider } = props;
    const tags = (name: string) => ({ ...props.tags, Name: name });

    const zones = new DataAwsAvailabilityZones(this, 'zones', {
      provider,
      state: 'available',
      filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }],
      lifecycle: {
        postcondition: [
          {
            condition: `\${length(self.names) >= ${zoneCount}}`,
            errorMessage: `${props.name} needs ${zoneCount} availability zones, and the Region offers fewer.`,
          },
        ],
      },
    });
    this.availabilityZones = Array.from({ length: zoneCount }, (_, index) => Fn.element(zones.names, index));

    this.cidrBlock = props.cidrBlock;
    this.vpc = new Vpc(this, 'vpc', {
      provider,
      cidrBlock: props.cidrBlock,
      // Peered Keycloak clusters resolve the Aurora endpoints to private addresses through these.
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: tags(props.name),
    });

    this.routeTable = new RouteTable(this, 'private', {
      provider,
      vpcId: this.vpc.id,
      tags: tags(`${props.name}-private`),
    });

    this.subnets = this.availabilityZones.map((availabilityZone, index) => {
      const subnet = new Subnet(this, `private-${index}`, {
        provider,
        vpcId: this.vpc.id,
        availabilityZone,
        cidrBlock: subdivideCidr(props.cidrBlock, subnetPrefix, index),
        mapPublicIpOnLaunch: false,
        tags: tags(`${props.name}-private-${index + 1}`),
      });
      new RouteTableAssociation(this, `private-${index}-routes`, {
        provider,
        subnetId: subnet.id,
        routeTableId: this.routeTable.id,
      });
      return subnet;
    });

    const subnetGroup = new DbSubnetGroup(this, 'db-subnets', {
      provider,
      name: props.name,
      description: `Private subnets of Aurora cluster ${props.name}`,
      subnetIds: this.subnets.map((subnet) => subnet.id),
      tags: tags(props.name),
    });
    this.dbSubnetGroupName = subnetGroup.name;

    // No inline rules: peering adds ingress as separate rule resources, which inline rules would delete.
    this.securityGroup = new SecurityGroup(this, 'aurora', {
      provider,
      name: `${props.name}-aurora`,
      description: `Aurora cluster ${props.name}; ingress comes from peered Keycloak sites only`,
      vpcId: this.vpc.id,
      tags: tags(`${props.name}-aurora`),
    });
  }
}
