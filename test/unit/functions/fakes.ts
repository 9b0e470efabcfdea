/**
 * Shared test fixtures for the stage unit tests: the stored plan fixture served from a mocked S3, a build
 * state in each phase, and BaseDeps around aws-sdk-client-mock clients.
 */
import { readFileSync } from 'node:fs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { amazonEbs, amiFacts } from '../../../core/builders/amazon-ebs.ts';
import type { PlannedBuild, PlannedProvisioner } from '../../../core/plan/types.ts';
import { PROVISIONERS } from '../../../core/provisioners/registry.ts';
import { formsOf } from '../../../core/template/sensitive.ts';
import type { Ec2AmiState } from '../../../functions/lib/build-state.ts';
import { clearPlanCache, type StoredPlan } from '../../../functions/lib/plan-store.ts';
import { clearSealedCache, type SealedValues, sealedKeyFor } from '../../../functions/lib/sealed-values.ts';
import type { BaseDeps } from '../../../functions/lib/stage-deps.ts';

/**
 * What PrepareBuild stores for a plan written the way a template is: options decoded by their catalogs and the
 * amazon-ebs facts derived, as planTemplate does. Fixtures and mutations stay in template terms (`"t"`, `[0, 2]`).
 */
function asPlanned(stored: StoredPlan): StoredPlan {
  const decodeProvisioner = (p: PlannedProvisioner): PlannedProvisioner =>
    ({
      ...p,
      config: PROVISIONERS.get(p.type)?.decode(p.config, stored.plan.format) ?? p.config,
    }) as PlannedProvisioner;
  const builds = stored.plan.builds.map((b): PlannedBuild => {
    const provisioners = b.provisioners.map(decodeProvisioner);
    if (b.driver !== 'ec2-ami') return { ...b, provisioners };
    const config = amazonEbs.decode(b.config, stored.plan.format);
    return { ...b, provisioners, config, ami: amiFacts(config) };
  });
  return { ...stored, plan: { ...stored.plan, builds } };
}

const FIXTURE = readFileSync(new URL('../../fixtures/functions/plan-ebs.json', import.meta.url), 'utf8');
export const PLAN_TEXT = JSON.stringify(asPlanned(JSON.parse(FIXTURE) as StoredPlan));
export const PLAN = JSON.parse(PLAN_TEXT) as StoredPlan;
export const PLAN_KEY = 'builds/kb-test/plan.json';
export const BUCKET = 'kiln-artifacts';
/** The fixture build's sensitive value, served from its sealed object (the plan itself holds none). */
export const SECRET = 'hunter2-secret';
export const SEALED: SealedValues = {
  version: 1,
  values: [SECRET],
  table: { nonce: 'n0nce', forms: formsOf([SECRET]) },
};

export function body(text: string) {
  // The SDK's stream mixin is not needed: stages only call transformToString / transformToByteArray.
  return {
    transformToString: async () => text,
    transformToByteArray: async () => new TextEncoder().encode(text),
  } as never;
}

export function planWith(mutate: (plan: StoredPlan) => void): string {
  const copy = JSON.parse(FIXTURE) as StoredPlan;
  mutate(copy);
  return JSON.stringify(asPlanned(copy));
}

export function mocks(planText = PLAN_TEXT) {
  clearPlanCache();
  clearSealedCache();
  const s3 = mockClient(S3Client);
  const ec2 = mockClient(EC2Client);
  const ssm = mockClient(SSMClient);
  s3.on(GetObjectCommand, { Bucket: BUCKET, Key: PLAN_KEY }).resolves({ Body: body(planText) });
  s3.on(GetObjectCommand, { Bucket: BUCKET, Key: sealedKeyFor('kb-test') }).resolves({
    Body: body(JSON.stringify(SEALED)),
  });
  const s3Client = new S3Client({ region: 'us-east-1' });
  const ec2Clients = new Map<string, EC2Client>();
  let now = new Date('2026-01-01T00:00:00.000Z');
  const deps: BaseDeps = {
    s3: s3Client,
    ec2For: (region) => {
      let c = ec2Clients.get(region);
      if (!c) {
        c = new EC2Client({ region });
        ec2Clients.set(region, c);
      }
      return c;
    },
    artifactsBucket: BUCKET,
    homeRegion: 'us-east-1',
    minPollSeconds: 15,
    now: () => now,
  };
  return {
    s3,
    ec2,
    ssm,
    deps,
    ssmClient: new SSMClient({ region: 'us-east-1' }),
    setNow: (iso: string) => {
      now = new Date(iso);
    },
    /** Regions the stage created EC2 clients for, in first-use order. */
    regions: () => [...ec2Clients.keys()],
  };
}

/** An ec2-ami build state before launch (the fixture plan is an amazon-ebs build). */
export function baseState(over: Partial<Ec2AmiState> = {}): Ec2AmiState {
  return {
    buildId: 'kb-test',
    executionName: 'exec-1',
    planKey: PLAN_KEY,
    index: 0,
    name: 'amazon-ebs.ubuntu',
    driver: 'ec2-ami',
    images: [],
    created: [],
    ...over,
  };
}

export function launchedState(over: Partial<Ec2AmiState> = {}): Ec2AmiState {
  return baseState({
    region: 'us-east-1',
    instanceId: 'i-0abc',
    launchedAt: '2026-01-01T00:00:00.000Z',
    provision: { index: 0, count: 7, attempt: 0 },
    created: [{ kind: 'instance', region: 'us-east-1', id: 'i-0abc' }],
    ...over,
  });
}
