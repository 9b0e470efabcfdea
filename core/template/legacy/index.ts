/** Public API of the legacy `{{ }}` template engine. */

export { cleanAmazonImageName, cleanGceImageName } from './cleanResourceName.ts';
export type { LegacyContext, LegacyRenderError, LegacyRenderOk, LegacyRenderResult, SecretRequest } from './context.ts';
export { isRenderError, secretRequestKey } from './context.ts';
export { isLegacyFunction } from './functions.ts';
export { formatGoTime, formatStrftime } from './goTime.ts';
export { checkLegacySyntax, hasLegacyActions, renderLegacy } from './render.ts';
export { renderLegacyAsync } from './renderAsync.ts';
