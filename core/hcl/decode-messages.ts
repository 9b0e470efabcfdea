/**
 * What HCL's decoder says when a body's items do not match its schema (hcldec / hclsyntax wording), for every
 * schema Kiln checks a body against: component bodies, data-source bodies, Kiln's own blocks.
 */
import { type Diagnostic, error, type SourceRange } from '../template/diagnostics.ts';

/** An argument where the schema wants a block of that name. */
export function argumentIsBlock(name: string, range: SourceRange | undefined): Diagnostic {
  return error(
    'Unsupported argument',
    `An argument named "${name}" is not expected here. Did you mean to define a block of type "${name}"?`,
    range,
  );
}

/** The hint when a block names what the schema declares as an argument. */
export const useEqualsHint = (name: string): string =>
  ` Did you mean to define argument "${name}"? If so, use the equals sign to assign it a value.`;

/** A block type the schema does not declare; `hint` is a did-you-mean or `useEqualsHint`. */
export function unsupportedBlock(type: string, hint: string, range: SourceRange | undefined): Diagnostic {
  return error('Unsupported block type', `Blocks of type "${type}" are not expected here.${hint}`, range);
}
