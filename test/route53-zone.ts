/** A Route 53 hosted zone for tests: a change applies whole or not at all, and DELETE must match exactly, as in Route 53. */
import { ChangeResourceRecordSetsCommand, GetChangeCommand, InvalidChangeBatch, ListHostedZonesByNameCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';

/** prod's writer name and zone (environments/prod.ts). */
export const NAME = 'keycloak-prod.aurora-global.keycloak.example.com';
export const ZONE_ID = 'Z0PRODZONE0001';

export type RecordSet = { Name: string; Type: string; TTL?: number; ResourceRecords: Array<{ Value: string }> };

/** A hosted zone: ChangeResourceRecordSets applies every change or none, and DELETE must match exactly. */
export class Zone {
  readonly records = new Map<string, RecordSet>();
  readonly changes: Array<Array<{ Action: string; Type: string; Name: string; Value: string }>> = [];
  /** Runs once, just before the next change is applied: another writer getting in first. */
  beforeNextChange?: () => void;
  private readonly appliedAt: number[] = [];

  /** `inSyncAfterMs`: how long GetChange reports a change PENDING, as Route 53 does while it propagates. */
  constructor(private readonly inSyncAfterMs = 0) {}

  mock(): void {
    const route53 = mockClient(Route53Client);
    const key = (name: string, type: string) => `${name.replace(/\.$/, '').toLowerCase()} ${type}`;
    route53.on(ListResourceRecordSetsCommand).callsFake(({ StartRecordName, StartRecordType }) => {
      const found = this.records.get(key(StartRecordName, StartRecordType));
      return { ResourceRecordSets: found ? [{ ...found, Name: `${found.Name}.` }] : [], IsTruncated: false, MaxItems: 1 };
    });
    route53.on(ChangeResourceRecordSetsCommand).callsFake(({ ChangeBatch }) => {
      const race = this.beforeNextChange;
      this.beforeNextChange = undefined;
      race?.();
      const next = new Map(this.records);
      for (const { Action, ResourceRecordSet: set } of ChangeBatch.Changes) {
        const id = key(set.Name, set.Type);
        const existing = next.get(id);
        if (Action === 'DELETE') {
          if (!existing || existing.TTL !== set.TTL || existing.ResourceRecords[0].Value !== set.ResourceRecords[0].Value) {
            throw new InvalidChangeBatch({ message: `[Tried to delete resource record set [name='${set.Name}', type='${set.Type}'] but the values provided do not match the current values]`, $metadata: {} });
          }
          next.delete(id);
        } else if (Action === 'CREATE') {
          if (existing) throw new InvalidChangeBatch({ message: `[Tried to create resource record set [name='${set.Name}', type='${set.Type}'] but it already exists]`, $metadata: {} });
          next.set(id, { ...set, Name: set.Name.replace(/\.$/, '') });
        } else throw new Error(`unexpected ${Action}`);
      }
      this.records.clear();
      next.forEach((value, id) => this.records.set(id, value));
      this.appliedAt.push(Date.now());
      this.changes.push(ChangeBatch.Changes.map(({ Action, ResourceRecordSet: set }: { Action: string; ResourceRecordSet: RecordSet }) => ({ Action, Type: set.Type, Name: set.Name, Value: set.ResourceRecords[0].Value })));
      return { ChangeInfo: { Id: `/change/C${this.changes.length}`, Status: 'PENDING', SubmittedAt: new Date() } };
    });
    route53.on(GetChangeCommand).callsFake(({ Id }) => {
      const applied = this.appliedAt[Number(String(Id).replace(/^.*\/C/, '')) - 1] ?? 0;
      return { ChangeInfo: { Id, Status: Date.now() - applied >= this.inSyncAfterMs ? 'INSYNC' : 'PENDING', SubmittedAt: new Date(applied) } };
    });
    route53.on(ListHostedZonesByNameCommand).resolves({ HostedZones: [{ Id: `/hostedzone/${ZONE_ID}`, Name: 'aurora-global.keycloak.example.com.', CallerReference: 'x', Config: { PrivateZone: true } }], IsTruncated: false, MaxItems: 10 });
  }

  cname(name: string, target: string): void {
    this.records.set(`${name} CNAME`, { Name: name, Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: target }] });
  }

  target(name: string): string | undefined {
    return this.records.get(`${name} CNAME`)?.ResourceRecords[0].Value;
  }

  pin(name: string): string | undefined {
    return this.records.get(`_writer-pin.${name} TXT`)?.ResourceRecords[0].Value;
  }
}

