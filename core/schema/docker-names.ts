/**
 * Where a docker image goes in Kiln: a bare repository name is an ECR repository of the build's own account and
 * region; a name whose first component is a registry host (Docker's rule: it holds a `.` or a `:`, or is
 * `localhost`) is a full reference, used as given. Pure: the account and region are passed in.
 */
import { InputInvalidError, TemplateInvalidError } from '../errors.ts';
import { printable } from './env-names.ts';

/** ECR's repository name rule (CreateRepository's pattern): lowercase components, `._-` inside, `/` between. */
export const ECR_REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Docker's tag rule (distribution/reference). */
export const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** A private ECR registry host: `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`. */
const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/** Why a repository name is not one ECR accepts, or undefined when it is. */
export function ecrRepositoryNameProblem(name: string): string | undefined {
  if (name.length < 2 || name.length > 256) {
    return `ECR repository names are 2 to 256 characters; "${printable(name)}" has ${name.length}`;
  }
  if (!ECR_REPOSITORY_NAME.test(name)) {
    return (
      `"${printable(name)}" is not a valid ECR repository name: lowercase letters and digits, separated ` +
      'inside a component by one of . _ - and between components by /'
    );
  }
  return undefined;
}

/** Why a tag is not one docker accepts, or undefined when it is. */
export function dockerTagProblem(tag: string): string | undefined {
  return DOCKER_TAG.test(tag)
    ? undefined
    : `"${printable(tag)}" is not a valid docker tag: up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -`;
}

/** Docker's rule for whether a reference starts with a registry host. */
export function hasRegistryHost(reference: string): boolean {
  const slash = reference.indexOf('/');
  if (slash < 0) return false;
  const first = reference.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

export interface EcrRegistry {
  readonly account: string;
  readonly region: string;
}

export function ecrRegistryHost(registry: EcrRegistry): string {
  if (!ACCOUNT.test(registry.account))
    throw new InputInvalidError(`"${printable(registry.account)}" is not an AWS account id`);
  if (!REGION.test(registry.region))
    throw new InputInvalidError(`"${printable(registry.region)}" is not an AWS region name`);
  return `${registry.account}.dkr.ecr.${registry.region}.amazonaws.com`;
}

/** The ECR registry a host name names (account and region), or undefined for any other registry. */
export function parseEcrHost(host: string): EcrRegistry | undefined {
  const m = ECR_HOST.exec(host);
  return m ? { account: m[1] as string, region: m[2] as string } : undefined;
}

export interface ResolvedRepository {
  /** The repository as written in the template. */
  readonly written: string;
  /** Full repository reference without a tag: `<host>/<path>`. */
  readonly uri: string;
  readonly host: string;
  /** The repository path inside its registry (the ECR repository name for ECR). */
  readonly path: string;
  /** Set when the repository lives in ECR (the account's own, or another one named by its full URI). */
  readonly ecr?: EcrRegistry;
  /** Whether the name was bare and resolved to the build account's registry (Kiln ensures such repositories). */
  readonly resolved: boolean;
}

/** Why a repository as written cannot be used, or undefined. Bare names follow ECR's rule. */
export function repositoryProblem(written: string): string | undefined {
  if (written === '') return 'the repository is empty';
  if (!hasRegistryHost(written)) return ecrRepositoryNameProblem(written);
  const slash = written.indexOf('/');
  const host = written.slice(0, slash);
  const path = written.slice(slash + 1);
  if (!/^[A-Za-z0-9.-]+(?::\d{1,5})?$/.test(host)) return `"${printable(host)}" is not a registry host name`;
  if (/[@]/.test(path) || path.includes(':')) {
    return `"${printable(written)}": give the repository without a tag or digest (tags go in tag or tags)`;
  }
  if (parseEcrHost(host)) return ecrRepositoryNameProblem(path);
  return /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path)
    ? undefined
    : `"${printable(path)}" is not a valid repository path`;
}

/** A bare name → `<account>.dkr.ecr.<region>.amazonaws.com/<name>`; a full reference as given. Throws on problems. */
export function resolveRepository(written: string, registry: EcrRegistry): ResolvedRepository {
  const problem = repositoryProblem(written);
  if (problem) throw new TemplateInvalidError(`docker repository: ${problem}`);
  if (!hasRegistryHost(written)) {
    const host = ecrRegistryHost(registry);
    return { written, uri: `${host}/${written}`, host, path: written, ecr: registry, resolved: true };
  }
  const slash = written.indexOf('/');
  const host = written.slice(0, slash);
  const ecr = parseEcrHost(host);
  return { written, uri: written, host, path: written.slice(slash + 1), ...(ecr ? { ecr } : {}), resolved: false };
}
