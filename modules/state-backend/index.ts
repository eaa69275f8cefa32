import { CloudBackend, NamedCloudWorkspace, S3Backend, TerraformStack } from 'cdktf';
import { cloudWorkspaceName, s3StateKey } from '../core';

export { cloudWorkspaceName, s3StateKey };

/** cdktf's default: a state file per stack in the project folder. */
export interface LocalStateBackend {
  readonly type: 'local';
}

/** State in S3, encrypted, locked with Terraform's native S3 lock file (Terraform 1.10+). */
export interface S3StateBackend {
  readonly type: 's3';
  /** Bucket that holds the state; it must exist, with versioning on. */
  readonly bucket: string;
  /** Region of the bucket. */
  readonly region: string;
  /** Key prefix; each stack's state is `<keyPrefix>/<stack>/terraform.tfstate`. @default 'keycloak-aurora-dr' */
  readonly keyPrefix?: string;
  /** KMS key that encrypts the state objects. @default - the bucket's default encryption */
  readonly kmsKeyId?: string;
}

/** State and runs in HCP Terraform / Terraform Cloud (or Terraform Enterprise), one workspace per stack. */
export interface CloudStateBackend {
  readonly type: 'cloud';
  /** Organization that owns the workspaces. */
  readonly organization: string;
  /** Host of HCP Terraform or of a Terraform Enterprise installation. @default 'app.terraform.io' */
  readonly hostname?: string;
  /** Project the workspaces belong to. @default - the organization's default project */
  readonly project?: string;
  /** Each stack runs in the workspace `<workspacePrefix><stack>`. @default '' */
  readonly workspacePrefix?: string;
}

export type StateBackend = LocalStateBackend | S3StateBackend | CloudStateBackend;

/** Points a stack's state at `backend`; the stack's construct id names its key or workspace. */
export function addStateBackend(stack: TerraformStack, backend: StateBackend): void {
  const stackName = stack.node.id;
  switch (backend.type) {
    case 'local':
      return;
    case 's3': {
      const s3 = new S3Backend(stack, {
        bucket: backend.bucket,
        key: s3StateKey(backend.keyPrefix ?? 'keycloak-aurora-dr', stackName),
        region: backend.region,
        encrypt: true,
        kmsKeyId: backend.kmsKeyId,
      });
      // cdktf 0.21 has no typed field for native locking; DynamoDB locking is deprecated upstream.
      s3.addOverride('use_lockfile', true);
      return;
    }
    case 'cloud':
      new CloudBackend(stack, {
        organization: backend.organization,
        hostname: backend.hostname ?? 'app.terraform.io',
        workspaces: new NamedCloudWorkspace(cloudWorkspaceName(backend.workspacePrefix ?? '', stackName), backend.project),
      });
      return;
  }
}
