/**
 * AWS Regions in which Aurora PostgreSQL global databases can be placed, by partition.
 * A global database never spans partitions, so the partition is part of the rule set.
 */
export const AWS_REGIONS_BY_PARTITION = {
  aws: [
    'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
    'ca-central-1', 'ca-west-1', 'mx-central-1', 'sa-east-1',
    'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3',
    'eu-south-1', 'eu-south-2', 'eu-north-1',
    'af-south-1', 'il-central-1', 'me-south-1', 'me-central-1',
    'ap-east-1', 'ap-east-2', 'ap-south-1', 'ap-south-2',
    'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
    'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4',
    'ap-southeast-5', 'ap-southeast-7',
  ],
  'aws-us-gov': ['us-gov-east-1', 'us-gov-west-1'],
  'aws-cn': ['cn-north-1', 'cn-northwest-1'],
} as const;

export type AwsPartition = keyof typeof AWS_REGIONS_BY_PARTITION;

/** Aurora allows one primary and up to ten secondary Regions in a global database. */
export const MAX_GLOBAL_DATABASE_REGIONS = 11;

/** The partition a Region belongs to, or undefined for a name AWS does not use. */
export function partitionOf(region: string): AwsPartition | undefined {
  for (const [partition, regions] of Object.entries(AWS_REGIONS_BY_PARTITION)) {
    if ((regions as readonly string[]).includes(region)) return partition as AwsPartition;
  }
  return undefined;
}
