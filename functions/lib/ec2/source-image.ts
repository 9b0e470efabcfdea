/**
 * Source AMI resolution (Packer's StepSourceAMIInfo): LaunchBuilder resolves the builder's image with it, and
 * PrepareBuild's amazon-ami data source uses the same filter and pick rules.
 */
import { DescribeImagesCommand, type EC2Client, type Filter, type Image } from '@aws-sdk/client-ec2';
import type { AmiFilterConfig } from '../../../core/builders/amazon/shape.ts';
import type { AmazonEbsConfig } from '../../../core/builders/amazon-ebs.ts';
import { LaunchFailedError } from '../../../core/errors.ts';
import { items, known } from '../../../core/schema/decoded.ts';
import { awsCall } from '../aws-errors.ts';

const launchFailed = (m: string, cause: unknown) => new LaunchFailedError(m, { cause });

/** `source_ami_filter { filters = {...}, owners = [...], most_recent = true }` → DescribeImages request. */
export function filterRequest(filter: AmiFilterConfig): { Owners?: string[]; Filters: Filter[] } {
  const filters = known(filter.filters) ?? {};
  const Filters: Filter[] = Object.entries(filters).map(([Name, v]) => ({ Name, Values: [String(v)] }));
  const owners = items(filter.owners);
  return owners.length > 0 ? { Owners: owners, Filters } : { Filters };
}

/** Newest by CreationDate when most_recent; otherwise exactly one match is required (as Packer does). */
export function pickImage(images: readonly Image[], mostRecent: boolean): Image | undefined {
  if (images.length === 0) return undefined;
  if (images.length > 1 && !mostRecent) {
    throw new LaunchFailedError(
      `source_ami_filter matched ${images.length} AMIs; set most_recent = true or narrow the filters`,
    );
  }
  return [...images].sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''))[0];
}

export async function resolveSourceImage(ec2: EC2Client, config: AmazonEbsConfig): Promise<Image> {
  const sourceAmi = config.source_ami || undefined;
  if (sourceAmi) {
    const out = await awsCall(`looking up source_ami ${sourceAmi}`, launchFailed, () =>
      ec2.send(new DescribeImagesCommand({ ImageIds: [sourceAmi] })),
    );
    const image = out.Images?.[0];
    if (!image) throw new LaunchFailedError(`source_ami ${sourceAmi} was not found in this region`);
    return image;
  }
  const filter = known(config.source_ami_filter);
  if (!filter) throw new LaunchFailedError('The build has neither source_ami nor source_ami_filter');
  const out = await awsCall('resolving source_ami_filter', launchFailed, () =>
    ec2.send(new DescribeImagesCommand(filterRequest(filter))),
  );
  const image = pickImage(out.Images ?? [], known(filter.most_recent) ?? false);
  if (!image?.ImageId) {
    throw new LaunchFailedError('source_ami_filter matched no AMI: check the filters, owners and region');
  }
  return image;
}
