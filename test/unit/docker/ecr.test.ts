/** ECR naming: bare names resolve to the build account's registry, full URIs are used as given, names follow ECR. */
import { describe, expect, it } from 'vitest';
import {
  dockerTagProblem,
  ecrRepositoryNameProblem,
  hasRegistryHost,
  parseEcrHost,
  repositoryProblem,
  resolveRepository,
} from '../../../core/schema/docker-names.ts';

const REGISTRY = { account: '123456789012', region: 'ap-southeast-2' };

describe('resolveRepository', () => {
  it.each([
    ['my-python-app', '123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/my-python-app', true, true],
    ['team/svc/app', '123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/team/svc/app', true, true],
    ['999999999999.dkr.ecr.us-west-2.amazonaws.com/xy', '999999999999.dkr.ecr.us-west-2.amazonaws.com/xy', false, true],
    ['ghcr.io/org/app', 'ghcr.io/org/app', false, false],
    ['localhost:5000/app', 'localhost:5000/app', false, false],
    ['localhost/app', 'localhost/app', false, false],
    ['registry.example.com:8443/a/b', 'registry.example.com:8443/a/b', false, false],
  ])('%s → %s', (written, uri, resolved, ecr) => {
    const r = resolveRepository(written, REGISTRY);
    expect(r.uri).toBe(uri);
    expect(r.resolved).toBe(resolved);
    expect(r.ecr !== undefined).toBe(ecr);
  });

  it('reads account and region from an ECR host (and FIPS / China hosts)', () => {
    expect(parseEcrHost('111122223333.dkr.ecr.eu-central-1.amazonaws.com')).toEqual({
      account: '111122223333',
      region: 'eu-central-1',
    });
    expect(parseEcrHost('111122223333.dkr.ecr-fips.us-east-1.amazonaws.com')?.region).toBe('us-east-1');
    expect(parseEcrHost('111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn')?.region).toBe('cn-north-1');
    expect(parseEcrHost('public.ecr.aws')).toBeUndefined();
  });

  it('refuses a bad account or region given by the pipeline', () => {
    expect(() => resolveRepository('app', { account: '12', region: 'us-east-1' })).toThrow(/account id/);
    expect(() => resolveRepository('app', { account: '123456789012', region: 'moon' })).toThrow(/region/);
  });

  it('uses Docker rule for what starts with a registry host', () => {
    expect(hasRegistryHost('org/app')).toBe(false);
    expect(hasRegistryHost('a.b/app')).toBe(true);
    expect(hasRegistryHost('app')).toBe(false);
  });
});

describe('repository names', () => {
  it.each(['ab', 'my-python-app', 'a.b_c-d', 'team/app', 'a/b/c', `a${'b'.repeat(255)}`])('accepts %s', (name) => {
    expect(ecrRepositoryNameProblem(name)).toBeUndefined();
  });
  it.each([
    ['a', /2 to 256/],
    [`a${'b'.repeat(256)}`, /2 to 256/],
    ['My-App', /not a valid ECR/],
    ['app_', /not a valid ECR/],
    ['-app', /not a valid ECR/],
    ['a//b', /not a valid ECR/],
    ['a..b', /not a valid ECR/],
    ['app:1', /not a valid ECR/],
    ['app\n$(x)', /not a valid ECR/],
  ])('refuses %j', (name, error) => {
    expect(ecrRepositoryNameProblem(name)).toMatch(error);
  });
  it('full references: no tag or digest in the repository, a valid path, ECR paths by ECR rule', () => {
    expect(repositoryProblem('ghcr.io/o/app:1')).toMatch(/without a tag/);
    expect(repositoryProblem('ghcr.io/o/app@sha256:00')).toMatch(/without a tag/);
    expect(repositoryProblem('123456789012.dkr.ecr.us-east-1.amazonaws.com/Bad')).toMatch(/ECR repository name/);
    expect(repositoryProblem('bad_host!.io/x')).toMatch(/registry host/);
    expect(repositoryProblem('')).toMatch(/empty/);
  });
});

describe('tags', () => {
  it.each(['latest', '1.0', 'v1_2-3', 'kb-0123abcd', 'A'.repeat(128)])('accepts %s', (t) => {
    expect(dockerTagProblem(t)).toBeUndefined();
  });
  it.each(['', '.x', '-x', 'a b', 'a:b', 'A'.repeat(129), '$(x)'])('refuses %j', (t) => {
    expect(dockerTagProblem(t)).toMatch(/not a valid docker tag/);
  });
});
