import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { cachedPerRegion, clientConfig } from '../clients.ts';

export const secretsClient = cachedPerRegion((region) => new SecretsManagerClient(clientConfig(region)));
