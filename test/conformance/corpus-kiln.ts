/**
 * Runs one corpus case through `kiln validate`'s own code path (argv parsing in cli/program.ts, then
 * checkTemplate) and checks Kiln's answer against the manifest: verdict, the named problem, the run
 * without vars, the template layer for mock-plugin fixtures, and build names / provisioner order.
 */
import { readFileSync } from 'node:fs';
import { type CorpusCase, type PreparedCase, prepareCase, validateArgs } from '../../bench/lib/corpus-cases.ts';
import { bufferedIO } from '../../cli/io.ts';
import type { LoadContext, TemplateRequest } from '../../cli/load-inputs.ts';
import { resolveFrom, toLoadOptions } from '../../cli/load-inputs.ts';
import { runCli } from '../../cli/program.ts';
import { type CheckOutcome, checkTemplate } from '../../cli/validate.ts';
import type { Verdict } from '../../cli/verdict.ts';
import type { Diagnostic } from '../../core/template/diagnostics.ts';
import { PROBLEMS } from './expectations.ts';
import { templateLayerVerdict } from './template-layer.ts';

export interface Check {
  readonly name: 'verdict' | 'problem' | 'without-vars' | 'template-layer' | 'builds';
  readonly ok: boolean;
  readonly detail: string;
}

export interface CaseEvaluation {
  readonly id: string;
  readonly format: 'json' | 'hcl';
  readonly expect: string;
  readonly kilnVerdict: Verdict;
  readonly kilnExitCode: number;
  readonly checks: readonly Check[];
  readonly agrees: boolean;
  /** First error (or failure) Kiln printed, one line, for the report. */
  readonly firstError: string;
}

/** Parses `kiln validate <argv>` with the CLI's parser and returns what checkTemplate decided. */
export async function kilnValidate(
  argv: readonly string[],
  cwd: string,
): Promise<{ outcome: CheckOutcome; request: TemplateRequest }> {
  const context: LoadContext = { cwd, env: {} };
  let captured: { outcome: CheckOutcome; request: TemplateRequest } | undefined;
  const io = bufferedIO({ cwd });
  const reject = async () => {
    throw new Error('only validate is expected here');
  };
  const code = await runCli(['validate', ...argv], io, {
    validate: async (request) => {
      const outcome = await checkTemplate(request, context);
      captured = { outcome, request };
      return outcome.exitCode;
    },
    inspect: reject,
    plan: reject,
    channelsPromote: reject,
    channelsRollback: reject,
    channelsList: reject,
    artifactsList: reject,
    artifactsShow: reject,
    artifactsRevoke: reject,
    schedulesAdd: reject,
    schedulesList: reject,
    schedulesSetState: reject,
    schedulesDelete: reject,
    agentsTokenCreate: reject,
    agentsTokenList: reject,
    agentsTokenRevoke: reject,
    agentsList: reject,
    agentsShow: reject,
    agentsRevoke: reject,
    buildsCancel: reject,
    submit: reject,
    buildsList: reject,
    buildsShow: reject,
    buildsLogs: reject,
    status: reject,
  });
  if (!captured) throw new Error(`kiln validate did not run (exit ${code}): ${io.stderr()}`);
  return captured;
}

function diagnosticText(d: Diagnostic): string {
  return [d.summary, d.detail ?? '', d.range?.file ?? ''].join('\n');
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '') ?? '';
}

export function firstError(outcome: CheckOutcome): string {
  if (outcome.failure) return firstLine(outcome.failure);
  const d = outcome.result?.diagnostics.find((x) => x.severity === 'error');
  if (!d) return '';
  const where = d.range ? `${d.range.start.line}:${d.range.start.column}: ` : '';
  return `${where}${d.summary}${d.detail ? `: ${firstLine(d.detail)}` : ''}`;
}

function problemCheck(c: CorpusCase, outcome: CheckOutcome): Check {
  const expectation = PROBLEMS[c.id];
  if (!expectation) return { name: 'problem', ok: false, detail: `no expectation written for ${c.id}` };
  const errors = outcome.result?.diagnostics.filter((d) => d.severity === 'error') ?? [];
  const texts = [...errors.map(diagnosticText), outcome.failure ?? ''];
  const all = texts.join('\n');
  const missing = expectation.patterns.filter((p) => !p.test(all));
  if (missing.length > 0) {
    return { name: 'problem', ok: false, detail: `no error mentions ${missing.join(', ')}` };
  }
  if (expectation.line !== undefined) {
    const first = expectation.patterns[0] as RegExp;
    const lines = errors.filter((d) => first.test(diagnosticText(d))).map((d) => d.range?.start.line);
    if (!lines.includes(expectation.line)) {
      return {
        name: 'problem',
        ok: false,
        detail: `expected line ${expectation.line}, Kiln gave ${JSON.stringify(lines)}`,
      };
    }
  }
  return { name: 'problem', ok: true, detail: 'names the problem' };
}

/** Build names and per-build provisioner order from the raw JSON, as `packer inspect` and only/except give them. */
function expectedJsonBuilds(c: CorpusCase, cwd: string): Map<string, string[]> | undefined {
  const inspected = c.inspect_provisioners;
  if (!inspected) return undefined;
  const raw = JSON.parse(readFileSync(resolveFrom(cwd, c.entry_arg), 'utf8')) as {
    builders?: { type?: string; name?: string }[];
    provisioners?: { type?: string; only?: string[]; except?: string[] }[];
  };
  const flag = (name: string) =>
    (c.args ?? []).filter((a) => a.startsWith(`-${name}=`)).flatMap((a) => a.slice(name.length + 2).split(','));
  const only = flag('only');
  const except = flag('except');
  const builds = new Map<string, string[]>();
  for (const b of raw.builders ?? []) {
    const name = b.name ?? b.type ?? '';
    if ((only.length > 0 && !only.includes(name)) || except.includes(name)) continue;
    const provisioners = (raw.provisioners ?? [])
      .map((p, i) => ({ p, type: inspected[i] }))
      .filter(({ p }) => (!p.only || p.only.includes(name)) && !p.except?.includes(name))
      .map(({ type }) => type as string);
    builds.set(name, provisioners);
  }
  return builds;
}

function buildsCheck(c: CorpusCase, prepared: PreparedCase, outcome: CheckOutcome): Check | undefined {
  if (c.format !== 'json' || !c.inspect_provisioners || !outcome.result?.template) return undefined;
  const expected = expectedJsonBuilds(c, prepared.cwd);
  if (!expected) return undefined;
  const actual = new Map(outcome.result.template.builds.map((b) => [b.name, b.provisioners.map((p) => p.type)]));
  const want = JSON.stringify([...expected]);
  const got = JSON.stringify([...actual]);
  return {
    name: 'builds',
    ok: want === got,
    detail: want === got ? 'same builds and order' : `want ${want}, got ${got}`,
  };
}

async function templateLayerCheck(c: CorpusCase, prepared: PreparedCase, request: TemplateRequest): Promise<Check> {
  try {
    const options = toLoadOptions(request, { cwd: prepared.cwd, env: {} });
    const layer = await templateLayerVerdict(resolveFrom(prepared.cwd, request.path), options);
    const got = layer.valid ? 'valid' : 'invalid';
    const firstLayerError = layer.result.diagnostics.find((d) => d.severity === 'error');
    return {
      name: 'template-layer',
      ok: got === c.template_expect,
      detail: `template layer ${got}${firstLayerError ? ` (${firstLayerError.summary})` : ''}, corpus ${c.template_expect}`,
    };
  } catch (error) {
    return { name: 'template-layer', ok: false, detail: `front end threw: ${String(error)}` };
  }
}

function normalizedExpect(expect: string): Verdict {
  return expect === 'valid-with-vars' ? 'valid' : (expect as Verdict);
}

export async function evaluateCase(c: CorpusCase, parent?: string): Promise<CaseEvaluation> {
  const prepared = prepareCase(c, parent);
  const { outcome, request } = await kilnValidate(validateArgs(c), prepared.cwd);
  const checks: Check[] = [];
  const want = normalizedExpect(c.expect);
  checks.push({
    name: 'verdict',
    ok: outcome.verdict === want,
    detail: `Kiln ${outcome.verdict}${outcome.verdict === want ? '' : `, corpus ${c.expect}`}`,
  });
  if (c.expect === 'invalid' || c.expect === 'unsupported-plugin') checks.push(problemCheck(c, outcome));
  if (c.expect === 'valid-with-vars') {
    const without = await kilnValidate(validateArgs(c, { withVars: false }), prepared.cwd);
    checks.push({
      name: 'without-vars',
      ok: without.outcome.verdict !== 'valid',
      detail: `without vars Kiln says ${without.outcome.verdict}${without.outcome.verdict === 'valid' ? '' : ` (${firstError(without.outcome)})`}`,
    });
  }
  if (c.template_expect) checks.push(await templateLayerCheck(c, prepared, request));
  const builds = buildsCheck(c, prepared, outcome);
  if (builds) checks.push(builds);
  return {
    id: c.id,
    format: c.format,
    expect: c.expect,
    kilnVerdict: outcome.verdict,
    kilnExitCode: outcome.exitCode,
    checks,
    agrees: checks.every((k) => k.ok),
    firstError: firstError(outcome),
  };
}

export function describeDisagreement(e: CaseEvaluation): string {
  return e.checks
    .filter((k) => !k.ok)
    .map((k) => `${k.name}: ${k.detail}`)
    .join('; ');
}
