/**
 * Checks on the registry's `trigger` field (functions/registry.ts) that the CDK app runs before it deploys
 * anything, and that the infra tests cross with the real registry: a `function` trigger and the caller's
 * `invokes` must name each other, and a `task` must belong to a state machine that exists.
 */
import { type FunctionSpec, placeholderFor } from '../functions/registry.ts';

/** The functions the Task states of `stateMachine` invoke, in registry order. */
export function taskFunctionsOf(specs: readonly FunctionSpec[], stateMachine: string): FunctionSpec[] {
  return specs.filter((spec) => spec.trigger.kind === 'task' && spec.trigger.stateMachine === stateMachine);
}

/** Their ASL placeholders (`<Id>FunctionArn`), sorted. */
export function taskPlaceholdersOf(specs: readonly FunctionSpec[], stateMachine: string): string[] {
  return taskFunctionsOf(specs, stateMachine).map(placeholderFor).sort();
}

/** `invokes` and `function` triggers that disagree; [] when every direct invocation is declared on both sides. */
export function invocationProblems(specs: readonly FunctionSpec[]): string[] {
  const byId = new Map(specs.map((spec) => [spec.id, spec]));
  const problems: string[] = [];
  for (const spec of specs) {
    for (const target of spec.invokes ?? []) {
      const callee = byId.get(target.id);
      if (!callee) problems.push(`${spec.id} invokes ${target.id}, which is not in the registry`);
      else if (callee.trigger.kind !== 'function' || callee.trigger.by !== spec.id) {
        problems.push(`${spec.id} invokes ${target.id}, whose trigger is not { kind: 'function', by: '${spec.id}' }`);
      }
    }
    if (spec.trigger.kind === 'function') {
      const by = spec.trigger.by;
      const caller = byId.get(by);
      if (!caller) problems.push(`${spec.id} is triggered by ${by}, which is not in the registry`);
      else if (!(caller.invokes ?? []).some((target) => target.id === spec.id)) {
        problems.push(`${spec.id} is triggered by ${by}, whose invokes does not list it`);
      }
    }
  }
  return problems;
}

/** `task` triggers naming a state machine that is not deployed. */
export function stateMachineProblems(specs: readonly FunctionSpec[], stateMachines: readonly string[]): string[] {
  const known = new Set(stateMachines);
  return specs.flatMap((spec) =>
    spec.trigger.kind === 'task' && !known.has(spec.trigger.stateMachine)
      ? [`${spec.id} is a task of state machine "${spec.trigger.stateMachine}", which has no .asl.json file`]
      : [],
  );
}
