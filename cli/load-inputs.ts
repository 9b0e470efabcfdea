/**
 * Turns command-line inputs into a loadTemplate call. Every verb (validate, inspect, plan) and the
 * conformance suite go through here, so they resolve paths and variables identically.
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { KilnError } from '../core/errors.ts';
import type { TemplateLimits } from '../core/template/limits.ts';
import type { LoadOptions, LoadResult } from '../core/template/model.ts';
import { loadTemplate } from '../core/validation/load.ts';
import { pipelineLoadOptions } from '../core/validation/pipeline.ts';

export interface TemplateRequest {
  /** Template file or directory as typed by the user (a trailing slash is kept: `path.root` sees it). */
  readonly path: string;
  readonly vars?: readonly (readonly [string, string])[];
  readonly varFiles?: readonly string[];
  readonly only?: readonly string[];
  readonly except?: readonly string[];
  readonly syntaxOnly?: boolean;
  readonly now?: Date;
  /**
   * Apply the pipeline's rules (`--pipeline`): every file the template names must be inside its folder, relative
   * paths resolve there, env() sees an empty environment. The same options PrepareBuild passes.
   */
  readonly pipeline?: boolean;
  /** `-limit name=value` overrides of the template resource limits (limits.ts). */
  readonly limits?: Partial<TemplateLimits>;
}

export interface LoadContext {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Either a LoadResult (possibly with diagnostics), or a typed error the loader raised (missing path, ...). */
export type LoadOutcome =
  | {
      readonly kind: 'loaded';
      readonly result: LoadResult;
      /** With --pipeline: the template's root, for planning under the same confinement. */
      readonly root?: string;
    }
  | { readonly kind: 'failed'; readonly error: KilnError };

/** `join`, not `resolve`: it keeps a trailing slash, which Packer passes on to `path.root`. */
export function resolveFrom(cwd: string, path: string): string {
  return isAbsolute(path) ? path : join(cwd, path);
}

export function toLoadOptions(request: TemplateRequest, context: LoadContext): LoadOptions {
  return {
    cwd: context.cwd,
    env: context.env,
    vars: request.vars ?? [],
    // As typed: the loader resolves them against cwd and prints them the way the user wrote them.
    varFiles: request.varFiles ?? [],
    only: request.only ?? [],
    except: request.except ?? [],
    syntaxOnly: request.syntaxOnly ?? false,
    ...(request.now ? { now: request.now } : {}),
    ...(request.limits ? { limits: request.limits } : {}),
  };
}

/** The template's root in the pipeline: the folder given, or the folder of the file given. */
export function pipelineRoot(cwd: string, path: string): string {
  const abs = resolve(cwd, path);
  try {
    return statSync(abs).isDirectory() ? abs : dirname(abs);
  } catch {
    return dirname(abs);
  }
}

/** Only typed Kiln errors are outcomes; anything else is a bug and propagates. */
export async function loadForCli(request: TemplateRequest, context: LoadContext): Promise<LoadOutcome> {
  try {
    if (request.pipeline) {
      const root = pipelineRoot(context.cwd, request.path);
      const { cwd: _cwd, env: _env, ...inputs } = toLoadOptions(request, context);
      const options = pipelineLoadOptions(root, {
        ...inputs,
        // Typed relative to the shell's directory; the pipeline fetches them into the template's folder.
        varFiles: (request.varFiles ?? []).map((f) => resolve(context.cwd, f)),
      });
      return { kind: 'loaded', result: await loadTemplate(resolveFrom(context.cwd, request.path), options), root };
    }
    // The path goes as typed (the loader resolves it against cwd), so diagnostics name files as the user does.
    const result = await loadTemplate(request.path, toLoadOptions(request, context));
    return { kind: 'loaded', result };
  } catch (error) {
    if (error instanceof KilnError) return { kind: 'failed', error };
    throw error;
  }
}
