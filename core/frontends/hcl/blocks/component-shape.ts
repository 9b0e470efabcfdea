/**
 * The shape HCL's decoder enforces on a component body (a source, provisioner or post-processor Kiln has a schema
 * for): an option the HCL2 spec declares as a nested block cannot be written as an argument
 * (`launch_block_device_mappings = [...]`), an argument cannot be written as a block (`tags { ... }`), and a
 * block type the spec does not have is refused, each worded as hclsyntax words it. The refused items are taken
 * out of the body, so the component's own validation does not report them again.
 */
import { builderSpec } from '../../../builders/registry.ts';
import { argumentIsBlock, unsupportedBlock, useEqualsHint } from '../../../hcl/decode-messages.ts';
import { didYouMean } from '../../../hcl/eval/suggest.ts';
import type { Body } from '../../../hcl/syntax/ast.ts';
import { POST_PROCESSORS } from '../../../postprocessors/registry.ts';
import { PROVISIONERS } from '../../../provisioners/registry.ts';
import type { Diagnostic } from '../../../template/diagnostics.ts';

export type ComponentBodyKind = 'builder' | 'provisioner' | 'post-processor';

function specOf(kind: ComponentBodyKind, type: string) {
  return kind === 'builder' ? builderSpec(type) : (kind === 'provisioner' ? PROVISIONERS : POST_PROCESSORS).get(type);
}

/**
 * The body as HCL's decoder accepts it for component `type`; unchanged for types Kiln has no schema for (their
 * plugin decodes them). `keep` names arguments Packer reads itself (`only`, `name`, ...): never refused here.
 */
export function checkComponentBody(
  kind: ComponentBodyKind,
  type: string,
  body: Body,
  diagnostics: Diagnostic[],
  keep: ReadonlySet<string> = new Set(),
): Body {
  const spec = specOf(kind, type);
  if (!spec) return body;
  const shape = spec.hclShape;
  const untyped = new Set(spec.keys.filter((k) => !shape.blocks.has(k) && !shape.attributes.has(k)));
  const attributes = body.attributes.filter((a) => {
    if (keep.has(a.name) || !shape.blocks.has(a.name)) return true;
    diagnostics.push(argumentIsBlock(a.name, a.nameRange));
    return false;
  });
  const blocks = body.blocks.filter((b) => {
    const name = b.type === 'dynamic' ? (b.labels[0] ?? '') : b.type;
    // Options the schema leaves untyped may be written either way.
    if (shape.blocks.has(name) || untyped.has(name)) return true;
    // dynblock words a dynamic block of a type the schema lacks without hints; hclsyntax suggests a similar block
    // type, else the argument of that name.
    const hint =
      b.type === 'dynamic'
        ? ''
        : didYouMean(name, shape.blocks) || (shape.attributes.has(name) ? useEqualsHint(name) : '');
    diagnostics.push(
      unsupportedBlock(name, hint, b.type === 'dynamic' ? (b.labelRanges[0] ?? b.typeRange) : b.typeRange),
    );
    return false;
  });
  return { attributes, blocks, range: body.range };
}
