/**
 * Packer's `-machine-readable` format: one CSV line per event, `timestamp,target,type,data...`. Packer does
 * not quote fields; it replaces commas inside a field with `%!(PACKER_COMMA)` and writes newlines and
 * carriage returns as the two characters `\n` / `\r`, so every event stays on one line.
 */

export function escapeMachineField(value: string): string {
  return value.replaceAll(',', '%!(PACKER_COMMA)').replaceAll('\r', '\\r').replaceAll('\n', '\\n');
}

/** One line, terminated by a newline. `target` is the build name, or empty for template-wide events. */
export function machineLine(now: Date, target: string, type: string, ...data: readonly string[]): string {
  const timestamp = Math.floor(now.getTime() / 1000).toString();
  return `${[timestamp, target, type, ...data].map(escapeMachineField).join(',')}\n`;
}

/** Splits a machine-readable line back into fields (for tests and for tools that read Kiln's output). */
export function parseMachineLine(line: string): string[] {
  return line
    .replace(/\n$/, '')
    .split(',')
    .map((f) => f.replaceAll('%!(PACKER_COMMA)', ',').replaceAll('\\n', '\n').replaceAll('\\r', '\r'));
}
