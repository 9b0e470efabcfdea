/**
 * Top-level folders import one way, from the application down to the domain: a folder may import only folders
 * below it in LAYERS. core/ is the pure domain; aws/ is the AWS layer the Lambdas and the CLI share (records,
 * store layout, clients); functions/ the Lambdas; infra/ the CDK app (reads the function registry); harness/ the
 * local runtime (deploys the synthesized app); cli/ the `kiln` command and `npm start`; bench/ and scripts/ on top.
 * agent/ (`kiln-agent`, run on-prem) is a branch beside that line: it may import core/ and aws/ (the gateway
 * contract) only, and only bench/ and scripts/ (and tests) import it, so its bundle carries no Lambda or CLI code.
 */
import { describe, expect, it } from 'vitest';
import { importEdges, sources, upwardEdges } from './source-imports.ts';

const LAYERS = ['core', 'aws', 'functions', 'infra', 'harness', 'cli', 'bench', 'scripts'] as const;
function rank(path: string): number | undefined {
  const i = LAYERS.indexOf(path.split('/')[0] as (typeof LAYERS)[number]);
  return i < 0 ? undefined : i;
}

describe('top-level layers', () => {
  const edges = importEdges(LAYERS.flatMap((dir) => sources(dir)));

  it('reads imports between layers', () => {
    expect(edges.filter(({ from, to }) => from.split('/')[0] !== to.split('/')[0]).length).toBeGreaterThan(50);
  });

  it('flags an import that runs up a layer', () => {
    expect(upwardEdges([{ from: 'core/plan/plan.ts', to: 'functions/registry.ts' }], rank)).toEqual([
      'core/plan/plan.ts → functions/registry.ts',
    ]);
    expect(upwardEdges([{ from: 'functions/registry.ts', to: 'core/errors.ts' }], rank)).toEqual([]);
  });

  it('no folder imports one above it', () => {
    expect(upwardEdges(edges, rank)).toEqual([]);
  });
});

describe('the agent branch', () => {
  const top = (path: string) => path.split('/')[0];
  const agentEdges = importEdges(sources('agent'));
  const others = importEdges(LAYERS.flatMap((dir) => sources(dir)));

  it('reads the agent imports', () => {
    expect(agentEdges.some(({ to }) => to === 'aws/agent-gateway-contract.ts')).toBe(true);
  });

  it('agent imports only agent, core and aws', () => {
    expect(
      agentEdges
        .filter(({ to }) => !['agent', 'core', 'aws'].includes(top(to) ?? ''))
        .map((e) => `${e.from} → ${e.to}`),
    ).toEqual([]);
  });

  it('only bench and scripts import agent', () => {
    expect(
      others
        .filter(({ from, to }) => top(to) === 'agent' && !['bench', 'scripts'].includes(top(from) ?? ''))
        .map((e) => `${e.from} → ${e.to}`),
    ).toEqual([]);
  });
});
