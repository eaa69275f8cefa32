import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { Route53Zone } from '@cdktf/provider-aws/lib/route53-zone';
import { Route53ZoneAssociation } from '@cdktf/provider-aws/lib/route53-zone-association';
import { Construct } from 'constructs';
import { assertProps, dnsNameProblem } from '../core';

/** A VPC whose resolver answers from a private zone. */
export interface ZoneVpc {
  readonly vpcId: string;
  readonly region: string;
}

export type WriterZone =
  /** A new private zone, answering inside the given VPCs (at least one). */
  | { readonly type: 'private'; readonly zoneName: string; readonly vpcs: readonly ZoneVpc[] }
  /** A new public zone; delegate it from the parent domain. */
  | { readonly type: 'public'; readonly zoneName: string }
  /** A zone you already own. */
  | { readonly type: 'existing'; readonly zoneId: string; readonly zoneName: string };

export interface WriterDnsRecordProps {
  /** Provider for Route 53 (a global service: any Region's provider works). */
  readonly provider: AwsProvider;
  /** The record's name, lowercase, without the trailing dot; it must be inside the zone. */
  readonly recordName: string;
  /** Where the record lives. */
  readonly zone: WriterZone;
  /** The CNAME target at creation: the writer's endpoint then. Later changes are the failover handler's. */
  readonly initialTarget: string;
  /** TTL in seconds. @default 5 */
  readonly ttlSeconds?: number;
}

/**
 * The one DNS name clients use for the writer: a CNAME that Terraform creates and then leaves alone,
 * because after a switchover or failover the writer is not what Terraform last saw.
 */
export class WriterDnsRecord extends Construct {
  public readonly record: Route53Record;
  public readonly zoneId: string;
  /** ARN of the hosted zone, for IAM policies. */
  public readonly zoneArn: string;
  public readonly recordName: string;
  public readonly ttlSeconds: number;

  constructor(scope: Construct, id: string, props: WriterDnsRecordProps) {
    super(scope, id);
    const { provider, zone, recordName } = props;
    this.ttlSeconds = props.ttlSeconds ?? 5;
    const nameProblem = dnsNameProblem(recordName);
    assertProps(`WriterDnsRecord ${id}`, [
      { failed: nameProblem !== undefined, message: `recordName ${recordName} ${nameProblem}` },
      { failed: !recordName.endsWith(`.${zone.zoneName}`), message: `recordName ${recordName} is not inside zone ${zone.zoneName}` },
      { failed: zone.type === 'private' && zone.vpcs.length === 0, message: 'a private zone needs at least one VPC' },
      { failed: !Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1, message: `ttlSeconds must be a whole number of seconds >= 1, is ${this.ttlSeconds}` },
    ]);

    if (zone.type === 'existing') {
      this.zoneId = zone.zoneId;
      const partition = new DataAwsPartition(this, 'partition', { provider });
      this.zoneArn = `arn:${partition.partition}:route53:::hostedzone/${zone.zoneId}`;
    } else {
      const [firstVpc, ...otherVpcs] = zone.type === 'private' ? zone.vpcs : [];
      const created = new Route53Zone(this, 'zone', {
        provider,
        name: zone.zoneName,
        comment: `Writer endpoint names; ${recordName} follows the Aurora global cluster's writer`,
        ...(firstVpc && {
          vpc: [{ vpcId: firstVpc.vpcId, vpcRegion: firstVpc.region }],
          // Further VPCs join through association resources, which inline vpc blocks would undo.
          lifecycle: { ignoreChanges: ['vpc'] },
        }),
      });
      otherVpcs.forEach((vpc, index) => {
        new Route53ZoneAssociation(this, `vpc-${index + 1}`, {
          provider,
          zoneId: created.zoneId,
          vpcId: vpc.vpcId,
          vpcRegion: vpc.region,
        });
      });
      this.zoneId = created.zoneId;
      this.zoneArn = created.arn;
    }

    this.recordName = recordName;
    this.record = new Route53Record(this, 'writer', {
      provider,
      zoneId: this.zoneId,
      name: recordName,
      type: 'CNAME',
      ttl: this.ttlSeconds,
      records: [props.initialTarget],
      // The failover handler owns the target after creation; an apply must never move it back.
      lifecycle: { ignoreChanges: ['records'] },
    });
  }
}
