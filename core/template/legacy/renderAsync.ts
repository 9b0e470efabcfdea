/**
 * Pipeline-mode rendering with secrets: rendering stays synchronous and pure, and secret lookups happen
 * between passes. Pass 1 reports which secrets it needs; they are fetched through the resolver; pass 2 uses
 * them. A second round covers secret ids computed from other secrets (bounded).
 */
import type { Resolvers } from '../model.ts';
import { isRenderError, type LegacyContext, type LegacyRenderResult, secretRequestKey } from './context.ts';
import { renderLegacy } from './render.ts';

const MAX_ROUNDS = 3;

export async function renderLegacyAsync(
  text: string,
  ctx: LegacyContext,
  resolvers: Resolvers,
  cache: Map<string, string> = new Map(),
): Promise<LegacyRenderResult> {
  let result = renderLegacy(text, { ...ctx, secrets: cache });
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (isRenderError(result) || !result.pendingSecrets?.length || ctx.mode !== 'pipeline') return result;
    const resolve = resolvers.secretsManager;
    if (!resolve) return { error: 'aws_secretsmanager needs AWS: no Secrets Manager resolver was given' };
    for (const req of result.pendingSecrets) {
      try {
        // The raw form asks for the whole secret string; the key form asks for one JSON key (or the plain value).
        const value = await resolve(req.secretId, req.raw ? undefined : req.key);
        cache.set(secretRequestKey(req), value);
      } catch (e) {
        const name = req.raw ? 'aws_secretsmanager_raw' : 'aws_secretsmanager';
        return { error: `error calling ${name}: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
    result = renderLegacy(text, { ...ctx, secrets: cache });
  }
  return result;
}
