/**
 * Packer's ami_name checks (AMIConfig.Prepare): 3-128 characters, only the characters `clean_resource_name`
 * keeps. A name still holding `{{ }}` run-time expressions (`{{timestamp}}`) is judged on its literal parts,
 * and on its length only once rendered.
 */
export const AMI_NAME_LENGTH = 'ami_name must be between 3 and 128 characters long';
export const AMI_NAME_CHARS =
  "AMIName should only contain alphanumeric characters, parentheses (()), square brackets ([]), spaces ( ), periods (.), slashes (/), dashes (-), single quotes ('), at-signs (@), or underscores(_). You can use the `clean_resource_name` template filter to automatically clean your ami name.";

const ALLOWED = /^[a-zA-Z0-9()[\] ./\-'@_]*$/;
const EXPRESSION = /\{\{.*?\}\}/gs;

export function amiNameProblems(name: string): string[] {
  const problems: string[] = [];
  const deferred = /\{\{.*?\}\}/s.test(name);
  const literal = name.replace(EXPRESSION, '');
  if (!deferred && (name.length < 3 || name.length > 128)) problems.push(AMI_NAME_LENGTH);
  if (deferred && literal.length > 128) problems.push(AMI_NAME_LENGTH);
  if (!ALLOWED.test(literal)) problems.push(AMI_NAME_CHARS);
  return problems;
}

/** A valid KMS key id, alias or ARN (packer-plugin-amazon `ValidateKmsKey`). */
export function isValidKmsKey(key: string): boolean {
  const id = '[a-f0-9]+[a-f0-9-]+$';
  const mrk = 'mrk-[a-f0-9]+[a-f0-9-]+$';
  const alias = 'alias/[a-zA-Z0-9:/_-]+$';
  const arn = '^arn:aws(-us-gov)?:kms:([a-z]{2}-(gov-)?[a-z]+-\\d{1})?:(\\d{12}):';
  return [`^${id}`, `^${mrk}`, `^${alias}`, `${arn}key/${id}`, `${arn}key/${mrk}`, `${arn}${alias}`].some((p) =>
    new RegExp(p).test(key),
  );
}
