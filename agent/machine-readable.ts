/**
 * `packer build -machine-readable` output: one CSV record per line, `time,target,type,data...`, commas inside
 * data written `%!(PACKER_COMMA)`, newlines `\n` (a backslash and an n) and carriage returns `\r`. Read as the
 * build runs: `ui` records become log lines, `artifact` records the artifacts of the build (contract
 * `agentArtifactSchema`), `error` records the failure reason. Checked against packer 1.6.6's real output
 * (test/unit/agent/fixtures/).
 */

export interface MachineRecord {
  readonly time: number;
  readonly target: string;
  readonly type: string;
  readonly data: readonly string[];
}

export interface ParsedArtifact {
  readonly builderId: string;
  readonly artifactId: string;
  readonly files: { name: string }[];
}

const unescapeField = (field: string): string =>
  field.replaceAll('%!(PACKER_COMMA)', ',').replaceAll('\\n', '\n').replaceAll('\\r', '\r');

/** One record, or undefined for a line that is not one (packer prints some plain text, e.g. a panic). */
export function parseRecord(line: string): MachineRecord | undefined {
  const fields = line.replace(/\r?\n$/, '').split(',');
  if (fields.length < 3) return undefined;
  const [time, target, type, ...data] = fields as [string, string, string, ...string[]];
  if (!/^\d+$/.test(time) || type === '') return undefined;
  return { time: Number(time), target, type, data: data.map(unescapeField) };
}

/** Collects what a build's records say; `feed` returns the log lines a record stands for. */
export class MachineReadableCollector {
  private readonly artifacts = new Map<string, { builderId?: string; artifactId?: string; files: string[] }>();
  private readonly done: ParsedArtifact[] = [];
  private readonly errors: string[] = [];
  private readonly uiErrors: string[] = [];
  private latestStep: string | undefined;
  private readonly finished: string[] = [];

  feed(line: string): string[] {
    if (line.trim() === '') return [];
    const record = parseRecord(line);
    // Not a record: keep it in the log as it came (packer's own crash output is plain text).
    if (!record) return [line];
    switch (record.type) {
      case 'ui': {
        const [level = 'say', message = ''] = record.data;
        if (level === 'error') this.uiErrors.push(message.trim());
        const lines = message.split('\n').filter((l) => l.trim() !== '');
        const step = lines.find((l) => l.startsWith('==> '));
        if (step) this.latestStep = step.slice(4).trim();
        const done = /^Build '(.+)' finished/.exec(message);
        if (done?.[1]) this.finished.push(done[1]);
        return lines;
      }
      case 'artifact':
        this.artifact(record);
        return [];
      case 'error':
        if (record.data[0]) this.errors.push(record.data.join(',').trim());
        return [];
      default:
        return [];
    }
  }

  private artifact(record: MachineRecord): void {
    const [index, key, ...rest] = record.data;
    if (index === undefined || key === undefined) return;
    const id = `${record.target}#${index}`;
    const entry = this.artifacts.get(id) ?? { files: [] };
    this.artifacts.set(id, entry);
    if (key === 'builder-id') entry.builderId = rest.join(',');
    else if (key === 'id') entry.artifactId = rest.join(',');
    // `artifact,0,file,<n>,<path>`: the path may itself hold commas.
    else if (key === 'file' && rest.length >= 2) entry.files.push(rest.slice(1).join(','));
    else if (key === 'end') {
      this.artifacts.delete(id);
      if (entry.builderId) {
        this.done.push({
          builderId: entry.builderId,
          artifactId: entry.artifactId ?? '',
          files: entry.files.map((name) => ({ name })),
        });
      }
    }
  }

  /** Artifacts whose `end` record was seen, in the order packer reported them. */
  result(): ParsedArtifact[] {
    return [...this.done];
  }

  /** Builds packer reported finished ("Build 'x' finished after ..."): none when `-only` matched nothing. */
  buildsFinished(): string[] {
    return [...this.finished];
  }

  /** The `==> ` step packer is on ("example: Provisioning with shell script: ..."), for heartbeats. */
  progress(): string | undefined {
    return this.latestStep;
  }

  /**
   * Why the build failed: the builds' `error` records (one per failed build), else the `ui error` lines packer
   * printed, else undefined.
   */
  failureReason(): string | undefined {
    if (this.errors.length > 0) return this.errors.join('\n');
    const ui = this.uiErrors.filter((l) => l !== '' && !l.startsWith('==> Some builds'));
    return ui.length > 0 ? ui.join('\n') : undefined;
  }
}
