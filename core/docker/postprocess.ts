/**
 * Docker post-processor chains as Packer runs them, over the builder's artifact, as a pure plan: the host steps
 * to run and the artifacts Packer would end with. Builder ids, accepted inputs, artifact ids and
 * keep_input_artifact defaults are the docker plugin's (packer-plugin-docker post-processor/*):
 * - builder commit → `packer.post-processor.docker-import` artifact, id = the image id (sha256:…);
 *   export_path → `packer.docker`, id = the path; discard → no artifact, so no post-processor runs.
 * - docker-tag (input: docker-tag or docker-import ids) tags `repository[:tag]` per tag (`tag` and `tags` merged;
 *   an empty tag is dropped, so no tag means docker's `latest`); id = the last tagged name; keeps its input always.
 * - docker-push (input: docker-import or docker-tag ids) pushes the id then each tag; id = the first name pushed.
 * - docker-import (input: `packer.docker`, an exported file) imports it as `repository[:tag]`; input not kept.
 * - docker-save (input: docker-import or docker-tag ids) writes `docker save` to `path`; returns its input.
 *
 * Kiln's rule for publishing (DESIGN.md "Docker host contract"): a repository is pushed to ECR when the chain
 * tags it (docker-tag or docker-import) and the repository resolves to ECR (a bare name is the build account's
 * registry), whether or not a docker-push follows: an image left on a builder host that is about to be
 * terminated is lost, and a user of an image factory expects it in the registry. Every published repository is
 * also tagged with the build id, so every build stays addressable for rollback. Other registries are pushed to
 * only by an explicit docker-push (Kiln has no credentials for them).
 */

import type { DockerConfig } from '../builders/docker.ts';
import { TemplateInvalidError } from '../errors.ts';
import type { PostProcessorConfigs } from '../postprocessors/registry.ts';
import { items, known } from '../schema/decoded.ts';
import {
  dockerTagProblem,
  type EcrRegistry,
  parseEcrHost,
  type ResolvedRepository,
  resolveRepository,
} from '../schema/docker-names.ts';
import { printable } from '../schema/env-names.ts';
import type { Config } from '../template/model.ts';

export const BUILDER_ID_DOCKER = 'packer.docker';
export const BUILDER_ID_IMPORT = 'packer.post-processor.docker-import';
export const BUILDER_ID_TAG = 'packer.post-processor.docker-tag';

/** An image on the host: the committed image (its id is known only at run time) or a name. */
export type ImageRef = { readonly kind: 'committed' } | { readonly kind: 'name'; readonly name: string };

export interface DockerArtifact {
  readonly builderId: string;
  /** Packer's artifact id; undefined for the committed image, whose id (sha256:…) the commit prints. */
  readonly id?: string;
  readonly ref?: ImageRef;
  /** Tags a docker-tag or docker-push recorded (`docker_tags`). */
  readonly tags?: readonly string[];
  /** Files on the host (export_path, docker-save path): `name` as written in the template. */
  readonly files?: readonly string[];
}

export interface RegistryLogin {
  /** Server as written (`login_server`); '' for Docker Hub. */
  readonly server: string;
  /** ECR registry (ecr_login, or Kiln's own publish): the password comes from ECR, never from the template. */
  readonly ecr?: EcrRegistry;
  readonly username?: string;
  readonly password?: string;
}

export type HostStep =
  | { readonly kind: 'tag'; readonly source: ImageRef; readonly target: string }
  | { readonly kind: 'push'; readonly name: string }
  | { readonly kind: 'login'; readonly login: RegistryLogin }
  | { readonly kind: 'logout'; readonly server: string }
  | {
      readonly kind: 'import';
      readonly file: string;
      readonly changes: readonly string[];
      readonly platform?: string;
      readonly target: string;
    }
  | { readonly kind: 'save'; readonly source: ImageRef; readonly path: string };

export interface PublishedRepository {
  readonly repository: ResolvedRepository;
  /** Tags pushed, the build id tag last. */
  readonly tags: readonly string[];
}

export interface PostProcessorInput {
  readonly type: string;
  readonly config: Config;
  /** `keep_input_artifact` as the user set it; undefined when not set (each post-processor's default applies). */
  readonly keepInputArtifact?: boolean;
}

export interface DockerPostPlanInput {
  readonly mode: 'commit' | 'export' | 'discard';
  /** export_path as written (mode export). */
  readonly exportPath?: string;
  readonly chains: readonly (readonly PostProcessorInput[])[];
  /** Tag every published repository also gets (the build id). */
  readonly buildTag: string;
  readonly registry: EcrRegistry;
  /** Kiln's publish rule; false leaves only what the template's own docker-push does. */
  readonly publish?: boolean;
}

export interface DockerPostPlan {
  readonly steps: readonly HostStep[];
  /** What Packer returns at the end of the build, in its order (kept intermediates, last of each chain, builder's). */
  readonly artifacts: readonly DockerArtifact[];
  readonly published: readonly PublishedRepository[];
}

const refOf = (a: DockerArtifact): ImageRef => a.ref ?? { kind: 'name', name: a.id ?? '' };
const shown = (a: DockerArtifact) => a.id ?? 'the committed image';

function refuse(type: string, input: DockerArtifact, accepts: string): never {
  throw new TemplateInvalidError(
    `${type}: cannot take the ${input.builderId} artifact (${printable(shown(input))}); it accepts ${accepts} artifacts`,
  );
}

/** `tag` and `tags` merged as the plugin does (tags first), empty tags dropped (Packer 1.6's empty `tag` = none). */
export function tagsOf(config: PostProcessorConfigs['docker-tag']): string[] {
  return [...items(config.tags), ...items(config.tag)].filter((t) => t !== '');
}

/** A post-processor's or the builder's login options (login, ecr_login + login_server). */
/** The login options the builder and docker-push share. */
type LoginOptions = Pick<DockerConfig, 'login' | 'login_server' | 'login_username' | 'login_password' | 'ecr_login'>;

export function loginOf(config: LoginOptions): RegistryLogin | undefined {
  const server = (config.login_server || undefined) ?? '';
  if (known(config.ecr_login)) {
    const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const ecr = parseEcrHost(host);
    if (!ecr) throw new TemplateInvalidError(`ecr_login: "${printable(server)}" is not an ECR registry address`);
    return { server: host, ecr };
  }
  if (!known(config.login)) return undefined;
  const username = config.login_username || undefined;
  const password = config.login_password || undefined;
  return { server, ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

interface Applied {
  readonly artifact: DockerArtifact;
  readonly defaultKeep: boolean;
  readonly forceOverride: boolean;
}

class Planner {
  readonly steps: HostStep[] = [];
  readonly published = new Map<string, { repository: ResolvedRepository; tags: string[] }>();
  constructor(private readonly input: DockerPostPlanInput) {}

  private publish(repository: string, tags: readonly string[], source: ImageRef): void {
    if (this.input.publish === false) return;
    const resolved = resolveRepository(repository, this.input.registry);
    if (!resolved.ecr) return;
    const entry = this.published.get(resolved.uri) ?? { repository: resolved, tags: [] };
    this.published.set(resolved.uri, entry);
    for (const tag of tags.length > 0 ? tags : ['latest']) {
      if (entry.tags.includes(tag)) continue;
      entry.tags.push(tag);
      this.steps.push({ kind: 'tag', source, target: `${resolved.uri}:${tag}` });
    }
  }

  /** A `repository[:tag]` name published when it resolves to ECR; false when it does not (push it as is). */
  private publishName(name: string, source: ImageRef): boolean {
    if (this.input.publish === false) return false;
    const colon = name.lastIndexOf(':');
    const hasTag = colon > name.lastIndexOf('/');
    const repository = hasTag ? name.slice(0, colon) : name;
    const resolved = resolveRepository(repository, this.input.registry);
    if (!resolved.ecr) return false;
    this.publish(repository, hasTag ? [name.slice(colon + 1)] : [], source);
    return true;
  }

  apply(pp: PostProcessorInput, input: DockerArtifact): Applied {
    switch (pp.type) {
      case 'docker-tag': {
        const c: PostProcessorConfigs['docker-tag'] = pp.config;
        if (input.builderId !== BUILDER_ID_TAG && input.builderId !== BUILDER_ID_IMPORT) {
          refuse('docker-tag', input, `${BUILDER_ID_IMPORT} or ${BUILDER_ID_TAG} (an image, not an exported file)`);
        }
        const repository = (c.repository || undefined) ?? '';
        const tags = tagsOf(c);
        for (const tag of tags) {
          const problem = dockerTagProblem(tag);
          if (problem) throw new TemplateInvalidError(`docker-tag: ${problem}`);
        }
        const names = tags.length > 0 ? tags.map((t) => `${repository}:${t}`) : [repository];
        for (const target of names) this.steps.push({ kind: 'tag', source: refOf(input), target });
        this.publish(repository, tags, refOf(input));
        const artifact: DockerArtifact = {
          builderId: BUILDER_ID_TAG,
          id: names[names.length - 1] as string,
          tags: tags.length > 0 ? names : [],
        };
        return { artifact, defaultKeep: true, forceOverride: true };
      }
      case 'docker-push': {
        const c: PostProcessorConfigs['docker-push'] = pp.config;
        if (input.builderId !== BUILDER_ID_TAG && input.builderId !== BUILDER_ID_IMPORT) {
          refuse('docker-push', input, `${BUILDER_ID_IMPORT} or ${BUILDER_ID_TAG}`);
        }
        if (input.id === undefined) {
          throw new TemplateInvalidError('docker-push: the committed image has no name to push; add docker-tag first');
        }
        const names = [input.id, ...(input.tags ?? [])];
        // Names in ECR are pushed by the publish steps (resolved, logged in with the host's role, build tag added).
        const direct = names.filter((name) => !this.publishName(name, refOf(input)));
        const login = direct.length > 0 ? loginOf(c) : undefined;
        if (login) this.steps.push({ kind: 'login', login });
        for (const name of direct) this.steps.push({ kind: 'push', name });
        if (login) this.steps.push({ kind: 'logout', server: login.server });
        const artifact: DockerArtifact = { builderId: BUILDER_ID_IMPORT, id: input.id, tags: input.tags ?? [] };
        return { artifact, defaultKeep: true, forceOverride: false };
      }
      case 'docker-import': {
        const c: PostProcessorConfigs['docker-import'] = pp.config;
        if (input.builderId !== BUILDER_ID_DOCKER) refuse('docker-import', input, `${BUILDER_ID_DOCKER} (export_path)`);
        const repository = (c.repository || undefined) ?? '';
        const tag = c.tag || undefined;
        const target = tag ? `${repository}:${tag}` : repository;
        const platform = c.platform || undefined;
        this.steps.push({
          kind: 'import',
          file: input.files?.[0] ?? '',
          changes: items(c.changes),
          ...(platform ? { platform } : {}),
          target,
        });
        this.publish(repository, tag ? [tag] : [], { kind: 'name', name: target });
        return { artifact: { builderId: BUILDER_ID_IMPORT, id: target }, defaultKeep: false, forceOverride: false };
      }
      case 'docker-save': {
        const c: PostProcessorConfigs['docker-save'] = pp.config;
        if (input.builderId !== BUILDER_ID_TAG && input.builderId !== BUILDER_ID_IMPORT) {
          refuse('docker-save', input, `${BUILDER_ID_IMPORT} or ${BUILDER_ID_TAG}`);
        }
        const path = (c.path || undefined) ?? '';
        this.steps.push({ kind: 'save', source: refOf(input), path });
        return { artifact: { ...input, files: [path] }, defaultKeep: true, forceOverride: false };
      }
      default:
        throw new TemplateInvalidError(`${pp.type} cannot run in a docker build on Kiln's builder host`);
    }
  }
}

/** Packer's keep rule: the user's keep_input_artifact wins unless the post-processor forces keeping. */
function keepOf(pp: PostProcessorInput, applied: Applied): boolean {
  if (pp.keepInputArtifact === undefined) return applied.defaultKeep;
  if (applied.defaultKeep && !pp.keepInputArtifact && applied.forceOverride) return true;
  return pp.keepInputArtifact;
}

export function builderArtifact(mode: DockerPostPlanInput['mode'], exportPath?: string): DockerArtifact | undefined {
  if (mode === 'commit') return { builderId: BUILDER_ID_IMPORT, ref: { kind: 'committed' } };
  if (mode === 'export') return { builderId: BUILDER_ID_DOCKER, id: exportPath ?? '', files: [exportPath ?? ''] };
  return undefined;
}

export function planDockerPostProcessors(input: DockerPostPlanInput): DockerPostPlan {
  const tagProblem = dockerTagProblem(input.buildTag);
  if (tagProblem) throw new TemplateInvalidError(`build tag: ${tagProblem}`);
  const builder = builderArtifact(input.mode, input.exportPath);
  if (!builder) return { steps: [], artifacts: [], published: [] };
  const planner = new Planner(input);
  const artifacts: DockerArtifact[] = [];
  let keepOriginal = input.chains.length === 0;
  for (const chain of input.chains) {
    let prior = builder;
    chain.forEach((pp, i) => {
      const applied = planner.apply(pp, prior);
      const keep = keepOf(pp, applied);
      if (i === 0) keepOriginal = keepOriginal || keep;
      else if (keep) artifacts.push(prior);
      prior = applied.artifact;
    });
    if (chain.length > 0) artifacts.push(prior);
  }
  if (keepOriginal) artifacts.push(builder);
  const published = [...planner.published.values()].map(({ repository, tags }) => {
    const all = tags.includes(input.buildTag) ? tags : [...tags, input.buildTag];
    return { repository, tags: all };
  });
  // Publishing: one ECR login per registry, the build tag, then every tag pushed.
  const steps = [...planner.steps];
  const byHost = new Map<string, PublishedRepository[]>();
  for (const p of published) byHost.set(p.repository.host, [...(byHost.get(p.repository.host) ?? []), p]);
  for (const [host, repos] of byHost) {
    const ecr = repos[0]?.repository.ecr as EcrRegistry;
    steps.push({ kind: 'login', login: { server: host, ecr } });
    for (const p of repos) {
      const firstTag = p.tags[0] as string;
      steps.push({
        kind: 'tag',
        source: { kind: 'name', name: `${p.repository.uri}:${firstTag}` },
        target: `${p.repository.uri}:${input.buildTag}`,
      });
      // The build id tag first: a push that fails midway then leaves a tag Cleanup can find and remove, never a
      // moved `latest` with nothing naming the build.
      const order = [input.buildTag, ...p.tags.filter((t) => t !== input.buildTag)];
      for (const tag of order) steps.push({ kind: 'push', name: `${p.repository.uri}:${tag}` });
    }
    steps.push({ kind: 'logout', server: host });
  }
  return { steps, artifacts, published };
}
