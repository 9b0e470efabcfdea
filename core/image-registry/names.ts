/**
 * Names the registry accepts. Channel names are chosen by users and appear in SSM parameter names, so they are
 * held to SSM's characters outright; template and build names come from templates and are mapped onto those
 * characters when published (parameter.ts).
 */
import { RegistryError } from './errors.ts';

/** A channel name: letters, digits, `_`, `.`, `-`; starts with a letter or digit; at most 64 characters. */
export const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function nameProblem(kind: 'template' | 'build' | 'channel', name: string): string | undefined {
  if (kind === 'channel') {
    return CHANNEL_NAME.test(name)
      ? undefined
      : `channel name "${name}" must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit`;
  }
  if (name.trim() === '') return `${kind} name must not be empty`;
  if (name.length > 256) return `${kind} name is longer than 256 characters`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return `${kind} name "${name}" contains a control character`;
  return undefined;
}

export function assertName(kind: 'template' | 'build' | 'channel', name: string): string {
  const problem = nameProblem(kind, name);
  if (problem) throw new RegistryError('InvalidName', problem);
  return name;
}
