/** References a plan may hold, resolved in the Region the run starts in: one AWS call each. */
import { CloudFormationClient, ListExportsCommand } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/** `!Import name`: the value of the CloudFormation export `name` (as the sample resolved it), or undefined. */
export async function resolveImport(cloudformation: CloudFormationClient, name: string): Promise<string | undefined> {
  let NextToken: string | undefined;
  do {
    const page = await cloudformation.send(new ListExportsCommand({ NextToken }));
    const found = page.Exports?.find((entry) => entry.Name === name);
    if (found) return found.Value;
    NextToken = page.NextToken;
  } while (NextToken);
  return undefined;
}

/** `!Ssm /path`: the value of an SSM parameter, or undefined when there is none. */
export async function resolveSsm(ssm: SSMClient, name: string): Promise<string | undefined> {
  try {
    return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return undefined;
    throw error;
  }
}
