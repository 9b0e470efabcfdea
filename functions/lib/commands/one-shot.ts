/**
 * The one-shot channel: a rendered provisioner script that carries a sensitive value (in any encoded form) never
 * goes into SendCommand's parameters, which anyone with ssm:ListCommands / GetCommandInvocation can read. It is
 * written to `secrets/<buildId>/oneshot/<name>` (SSE-KMS, bucket key) and the command is a small bootstrap: fetch
 * it with a short presigned GET, delete it with a presigned DELETE, run it, remove the local copy. CheckCommand
 * removes every version of the object when the command ends, Finalize removes the build's whole secrets prefix.
 */

import { ProvisionerFailedError } from '../../../core/errors.ts';
import { revealsAny } from '../../../core/template/sensitive.ts';
import { deleteAllVersions, oneShotKeyFor, putSecretObject, type SecretStoreDeps } from '../sealed-values.ts';
import type { Presign } from './presign-files.ts';
import type { DocumentName } from './send-command.ts';

/** Long enough for a queued command to start on an online instance; the object is deleted once fetched anyway. */
export const ONE_SHOT_URL_SECONDS = 900;

export interface Delivery {
  readonly commands: string[];
  /** Set when the script went through the channel; CheckCommand deletes it when the command ends. */
  readonly oneShotKey?: string;
}

export function oneShotName(buildIndex: number, provisioner: number | 'error-cleanup', attempt: number): string {
  return `b${buildIndex}-p${provisioner}-a${attempt}`;
}

function literal(url: string, quote: "'"): string {
  // Presigned URLs are plain ASCII without quotes; refuse anything else rather than quote it.
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(url) || url.includes(quote)) {
    throw new ProvisionerFailedError('A presigned URL for the one-shot script has unexpected characters');
  }
  return `${quote}${url}${quote}`;
}

/**
 * POSIX sh, as AWS-RunShellScript runs it. The script runs under sh like the commands it replaces, or under bash
 * for a bash script (a docker host step): sh is dash on Debian and Ubuntu hosts, which has no `set -o pipefail`.
 */
export function shellBootstrap(getUrl: string, deleteUrl: string, shell: OneShotShell = 'sh'): string[] {
  return [
    'kiln_script="$(mktemp)" || exit 1',
    `curl -fsS --retry 3 -o "$kiln_script" ${literal(getUrl, "'")} || { rm -f "$kiln_script"; echo "kiln: could not fetch the provisioner script" >&2; exit 1; }`,
    `curl -fsS -X DELETE -o /dev/null ${literal(deleteUrl, "'")} || true`,
    'chmod 700 "$kiln_script"',
    `${shell} "$kiln_script"`,
    'kiln_rc=$?',
    'rm -f "$kiln_script"',
    'exit $kiln_rc',
  ];
}

export function powerShellBootstrap(getUrl: string, deleteUrl: string): string[] {
  return [
    "$ErrorActionPreference = 'Stop'",
    "$kilnScript = Join-Path $env:TEMP ('kiln-' + [guid]::NewGuid().ToString() + '.ps1')",
    `Invoke-WebRequest -UseBasicParsing -Uri ${literal(getUrl, "'")} -OutFile $kilnScript`,
    `try { Invoke-WebRequest -UseBasicParsing -Method Delete -Uri ${literal(deleteUrl, "'")} | Out-Null } catch { }`,
    "$ErrorActionPreference = 'Continue'",
    '& $kilnScript',
    '$kilnRc = $LASTEXITCODE',
    'Remove-Item -Force $kilnScript',
    'exit $kilnRc',
  ];
}

/** What runs a one-shot shell script on the instance. */
export type OneShotShell = 'sh' | 'bash';

export interface DeliverDeps extends SecretStoreDeps {
  readonly presign: Presign;
}

/** The commands to send: unchanged when they reveal nothing, else a bootstrap for the one-shot object. */
export async function deliver(
  deps: DeliverDeps,
  req: {
    readonly buildId: string;
    readonly name: string;
    readonly document: DocumentName;
    readonly commands: readonly string[];
    readonly secrets: readonly string[];
    /** AWS-RunShellScript only: the interpreter of the script (default sh). */
    readonly shell?: OneShotShell;
  },
): Promise<Delivery> {
  const text = req.commands.join(req.document === 'AWS-RunPowerShellScript' ? '\r\n' : '\n');
  if (!revealsAny(text, req.secrets)) return { commands: [...req.commands] };
  const key = oneShotKeyFor(req.buildId, req.name);
  await putSecretObject(deps, key, `${text}\n`, 'storing the one-shot provisioner script');
  const [getUrl, deleteUrl] = await Promise.all([
    deps.presign('GET', deps.artifactsBucket, key, ONE_SHOT_URL_SECONDS),
    deps.presign('DELETE', deps.artifactsBucket, key, ONE_SHOT_URL_SECONDS),
  ]);
  const commands =
    req.document === 'AWS-RunPowerShellScript'
      ? powerShellBootstrap(getUrl, deleteUrl)
      : shellBootstrap(getUrl, deleteUrl, req.shell);
  return { commands, oneShotKey: key };
}

/** Every version of the one-shot object (the bucket is versioned; the instance's DELETE leaves a version). */
export async function removeOneShot(
  deps: Pick<SecretStoreDeps, 's3' | 'artifactsBucket'>,
  buildId: string,
  name: string,
): Promise<void> {
  await deleteAllVersions(deps, oneShotKeyFor(buildId, name), true).catch(() => undefined);
}
