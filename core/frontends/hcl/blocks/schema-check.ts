/** Structural checks of Packer's own blocks (not component configs): unexpected arguments and block types. */

import { unsupportedBlock } from '../../../hcl/decode-messages.ts';
import { didYouMean } from '../../../hcl/eval/suggest.ts';
import type { Body } from '../../../hcl/syntax/ast.ts';
import { type Diagnostic, error } from '../../../template/diagnostics.ts';

export function checkAttributes(
  body: Body,
  attrs: ReadonlySet<string>,
  blocks: ReadonlySet<string>,
  diagnostics: Diagnostic[],
): void {
  for (const a of body.attributes) {
    if (attrs.has(a.name)) continue;
    diagnostics.push(
      error(
        'Unsupported argument',
        `An argument named "${a.name}" is not expected here.${didYouMean(a.name, attrs)}`,
        a.nameRange,
      ),
    );
  }
  for (const b of body.blocks) {
    if (blocks.has(b.type)) continue;
    diagnostics.push(unsupportedBlock(b.type, didYouMean(b.type, blocks), b.typeRange));
  }
}
