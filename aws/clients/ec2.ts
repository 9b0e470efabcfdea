import { EC2Client } from '@aws-sdk/client-ec2';
import { cachedPerRegion, clientConfig } from '../clients.ts';

export const ec2Client = cachedPerRegion((region) => new EC2Client(clientConfig(region)));
