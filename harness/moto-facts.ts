/**
 * The resource facts IAM conditions depend on, read from moto (as the harness's admin) at the moment of the
 * call: EC2 tags, the VPC of a subnet or security group, the role behind an instance profile, ECR repository tags.
 */
import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { ECRClient, ListTagsForResourceCommand } from '@aws-sdk/client-ecr';
import type { ResourceFacts, Tags } from './aws-calls.ts';
import { localClientConfig } from './clients.ts';
import { iamCall } from './iam-policies.ts';

export function motoFacts(motoEndpoint: string): ResourceFacts {
  const clients = new Map<string, EC2Client>();
  const ec2 = (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = new EC2Client(localClientConfig(motoEndpoint, region));
      clients.set(region, client);
    }
    return client;
  };
  const ecrClients = new Map<string, ECRClient>();
  const ecr = (region: string) => {
    let client = ecrClients.get(region);
    if (!client) {
      client = new ECRClient(localClientConfig(motoEndpoint, region));
      ecrClients.set(region, client);
    }
    return client;
  };
  return {
    ecrRepositoryTags: async (region, registryId, name) => {
      const arn = `arn:aws:ecr:${region}:${registryId}:repository/${name}`;
      const out = await ecr(region)
        .send(new ListTagsForResourceCommand({ resourceArn: arn }))
        .catch(() => undefined);
      if (!out) return undefined;
      return Object.fromEntries((out.tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])) as Tags;
    },
    tags: async (region, ids) => {
      const wanted = ids.filter((id) => id.length > 0);
      const out: Record<string, Record<string, string>> = {};
      if (wanted.length === 0) return out;
      const page = await ec2(region).send(
        new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [...wanted] }], MaxResults: 1000 }),
      );
      for (const tag of page.Tags ?? []) {
        if (!tag.ResourceId || tag.Key === undefined) continue;
        out[tag.ResourceId] = { ...out[tag.ResourceId], [tag.Key]: tag.Value ?? '' };
      }
      return out as Record<string, Tags>;
    },
    vpcOfSubnet: async (region, subnetId) =>
      (
        await ec2(region)
          .send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }))
          .catch(() => undefined)
      )?.Subnets?.[0]?.VpcId,
    vpcOfSecurityGroup: async (region, groupId) =>
      (
        await ec2(region)
          .send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))
          .catch(() => undefined)
      )?.SecurityGroups?.[0]?.VpcId,
    roleOfInstanceProfile: async (nameOrArn) => {
      const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split('/').pop() ?? nameOrArn) : nameOrArn;
      const xml = await iamCall(motoEndpoint, 'GetInstanceProfile', { InstanceProfileName: name }).catch(() => '');
      return /<Roles>[\s\S]*?<Arn>([^<]*)<\/Arn>/.exec(xml)?.[1];
    },
  };
}
