import { type ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { PublishFailedError } from '../../../core/errors.ts';
import { awsCall } from '../aws-errors.ts';

/**
 * The password of an ECR login for the host's `docker login --username AWS --password-stdin`
 * (core/docker/host.ts `DockerHostContext.ecrPassword`): GetAuthorizationToken's token is base64 of
 * `AWS:<password>`. Valid 12 hours, for every registry the caller's role may reach. Never log it.
 */
export async function ecrPassword(ecr: ECRClient): Promise<string> {
  const out = await awsCall(
    'getting an ECR authorization token',
    (m, c) => new PublishFailedError(m, { cause: c }),
    () => ecr.send(new GetAuthorizationTokenCommand({})),
  );
  const token = out.authorizationData?.[0]?.authorizationToken;
  if (!token) throw new PublishFailedError('ECR GetAuthorizationToken returned no token');
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(0, colon) !== 'AWS') {
    throw new PublishFailedError('ECR GetAuthorizationToken returned a token that is not "AWS:<password>"');
  }
  return decoded.slice(colon + 1);
}
