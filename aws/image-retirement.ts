/**
 * What revoke and lifecycle do to an artifact's images in AWS: deprecate its AMIs (EnableImageDeprecation, in
 * every region it has one), and delete them (DeregisterImage, then DeleteSnapshot of each of its snapshots, per
 * region) or its container image (BatchDeleteImage by digest, only in a repository tagged `kiln:managed=true`).
 * Every call is idempotent: what is already gone counts as done, so a run that stopped half way is finished by
 * the next one. Registry records are written by the caller (image-registry-store.ts), after these succeed.
 */
import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  type EC2Client,
  EnableImageDeprecationCommand,
} from '@aws-sdk/client-ec2';
import {
  BatchDeleteImageCommand,
  DescribeRepositoriesCommand,
  type ECRClient,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-ecr';
import type { AmiImage, Artifact } from '../core/image-registry/artifact.ts';
import { parseEcrHost } from '../core/schema/docker-names.ts';
import { TAG_MANAGED, TAG_MANAGED_VALUE } from './tags.ts';

export interface ImageClients {
  readonly ec2: (region: string) => EC2Client;
  readonly ecr: (region: string) => ECRClient;
}

/** What happened to one image or snapshot. */
export interface ImageAction {
  readonly region: string;
  readonly id: string;
  readonly outcome: 'deprecated' | 'deregistered' | 'deleted' | 'gone' | 'left';
  readonly note?: string;
}

const GONE = new Set([
  'InvalidAMIID.NotFound',
  'InvalidAMIID.Unavailable',
  'InvalidSnapshot.NotFound',
  'RepositoryNotFoundException',
  'ImageNotFoundException',
]);
const isGone = (error: unknown) => error instanceof Error && GONE.has(error.name);

async function orGone(call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (error) {
    if (isGone(error)) return false;
    throw error;
  }
}

/**
 * Deprecates every AMI of an AMI artifact at `at` (revoke and lifecycle pass now: the AMI disappears from
 * DescribeImages listings that do not ask for deprecated images, launches by id keep working). Other kinds have
 * nothing to deprecate in AWS (a container image is only marked in the registry).
 */
export async function deprecateImages(clients: ImageClients, artifact: Artifact, at: Date): Promise<ImageAction[]> {
  if (artifact.content.kind !== 'ami') return [];
  return Promise.all(
    artifact.content.images.map(async (image): Promise<ImageAction> => {
      const done = await orGone(() =>
        clients.ec2(image.region).send(new EnableImageDeprecationCommand({ ImageId: image.imageId, DeprecateAt: at })),
      );
      return { region: image.region, id: image.imageId, outcome: done ? 'deprecated' : 'gone' };
    }),
  );
}

/** The snapshots of an AMI: the registry's list and, while the image exists, its block device mappings. */
async function snapshotsOf(ec2: EC2Client, image: AmiImage): Promise<string[]> {
  const ids = new Set(image.snapshotIds);
  try {
    const out = await ec2.send(new DescribeImagesCommand({ ImageIds: [image.imageId] }));
    for (const m of out.Images?.[0]?.BlockDeviceMappings ?? []) if (m.Ebs?.SnapshotId) ids.add(m.Ebs.SnapshotId);
  } catch (error) {
    if (!isGone(error)) throw error;
  }
  return [...ids];
}

async function deleteAmi(ec2: EC2Client, image: AmiImage): Promise<ImageAction[]> {
  const snapshots = await snapshotsOf(ec2, image);
  const deregistered = await orGone(() => ec2.send(new DeregisterImageCommand({ ImageId: image.imageId })));
  const actions: ImageAction[] = [
    { region: image.region, id: image.imageId, outcome: deregistered ? 'deregistered' : 'gone' },
  ];
  // After the image: EC2 refuses to delete a snapshot a registered AMI still uses (InvalidSnapshot.InUse).
  for (const id of snapshots) {
    const deleted = await orGone(() => ec2.send(new DeleteSnapshotCommand({ SnapshotId: id })));
    actions.push({ region: image.region, id, outcome: deleted ? 'deleted' : 'gone' });
  }
  return actions;
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<name>:<tag>` → its registry and repository name; else undefined. */
export function ecrRepositoryOf(imageUri: string): { account: string; region: string; name: string } | undefined {
  const slash = imageUri.indexOf('/');
  if (slash < 0) return undefined;
  const registry = parseEcrHost(imageUri.slice(0, slash));
  if (!registry) return undefined;
  const rest = imageUri.slice(slash + 1);
  const at = rest.indexOf('@');
  const path = at >= 0 ? rest.slice(0, at) : rest;
  const colon = path.lastIndexOf(':');
  return { account: registry.account, region: registry.region, name: colon >= 0 ? path.slice(0, colon) : path };
}

async function deleteContainerImage(
  ecr: (region: string) => ECRClient,
  imageUri: string,
  digest: string,
): Promise<ImageAction[]> {
  const repo = ecrRepositoryOf(imageUri);
  if (!repo) return [{ region: '-', id: `${imageUri}@${digest}`, outcome: 'left', note: 'not an ECR repository' }];
  const client = ecr(repo.region);
  const where = { region: repo.region, id: `${repo.name}@${digest}` };
  let arn: string | undefined;
  try {
    const out = await client.send(
      new DescribeRepositoriesCommand({ registryId: repo.account, repositoryNames: [repo.name] }),
    );
    arn = out.repositories?.[0]?.repositoryArn;
  } catch (error) {
    if (isGone(error)) return [{ ...where, outcome: 'gone' }];
    throw error;
  }
  const tags = arn ? ((await client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags ?? []) : [];
  if (!tags.some((t) => t.Key === TAG_MANAGED && t.Value === TAG_MANAGED_VALUE)) {
    return [{ ...where, outcome: 'left', note: `repository ${repo.name} is not Kiln's (no ${TAG_MANAGED}=true tag)` }];
  }
  const out = await client.send(
    new BatchDeleteImageCommand({
      registryId: repo.account,
      repositoryName: repo.name,
      imageIds: [{ imageDigest: digest }],
    }),
  );
  const failure = out.failures?.[0];
  if (failure && failure.failureCode !== 'ImageNotFound') {
    throw new Error(
      `ECR BatchDeleteImage ${repo.name}@${digest}: ${failure.failureCode} ${failure.failureReason ?? ''}`,
    );
  }
  return [{ ...where, outcome: failure ? 'gone' : 'deleted' }];
}

/**
 * Deletes an artifact's images: each AMI deregistered and its snapshots deleted in its region, or the container
 * image deleted by digest from a Kiln-managed repository (any other repository is left, with a note). Agent
 * artifacts have nothing here. The caller decides that nothing else still needs them (core lifecycle.ts).
 */
export async function deleteImages(clients: ImageClients, artifact: Artifact): Promise<ImageAction[]> {
  const c = artifact.content;
  if (c.kind === 'ami') return (await Promise.all(c.images.map((i) => deleteAmi(clients.ec2(i.region), i)))).flat();
  if (c.kind === 'container-image') return deleteContainerImage(clients.ecr, c.imageUri, c.digest);
  return [];
}
