/**
 * Composes a state machine from a parent ASL file and the child files it includes, at synth time: the deployed
 * definition is one flat ASL document (same states, same history, same transition count as if it had been written
 * in one file), so it runs unchanged on AWS, in moto's interpreter and in aws-local-stepfunctions.
 *
 * The contract (DESIGN.md, "State machine files"):
 * - The parent is ordinary ASL except for include states, which may stand anywhere a state may:
 *   `"Ec2AmiDriver": { "Type": "Kiln.Include", "File": "drivers/ec2-ami.asl.json", "Exits": ["BuildSucceeded", "Cleanup"] }`
 *   `File` is relative to the parent's folder; `Exits` names the parent states (of the same `States` block) the
 *   child may transition to; an optional `Comment` is dropped.
 * - A child file is `{ "Comment"?, "StartAt", "States" }`. Its `StartAt` is its entry: every parent reference to
 *   the include state (`Next`, `Default`, a Choice rule's `Next`, a `Catch`'s `Next`, `StartAt`) becomes a
 *   reference to that entry. Its states replace the include state, in place and in file order.
 * - A child's transitions go to its own states or to its include's `Exits`; the parent enters a child only
 *   through the include state, never by naming one of the child's states. Children include nothing.
 * - State names are unique across the parent and all children; after composition every target exists in its
 *   own `States` block and every state is reachable from that block's `StartAt`.
 * Anything else is refused with the file and state it is in.
 */

/** The `Type` of an include state: no ASL state type has a dot, so it cannot be mistaken for one. */
export const INCLUDE_TYPE = 'Kiln.Include';

const INCLUDE_KEYS = new Set(['Type', 'File', 'Exits', 'Comment']);
const CHILD_KEYS = new Set(['Comment', 'StartAt', 'States']);

type Json = Record<string, unknown>;
type StatesBlock = Record<string, Json>;

/** One file that went into a composed definition. */
export interface AslSourceFile {
  /** As the parent names it (`drivers/ec2-ami.asl.json`); the parent's own file name for the parent. */
  readonly name: string;
  readonly text: string;
}

export interface ComposedStateMachine {
  /** The definition as deployed, with every include replaced by its child's states. */
  readonly definition: Json;
  /** `definition` as JSON text: what the state machine is given (placeholders still in it). */
  readonly text: string;
  /** The parent first, then each child in include order. */
  readonly files: readonly AslSourceFile[];
  /** Which file each state (at any depth) comes from, by state name. */
  readonly stateFiles: ReadonlyMap<string, string>;
}

/** Refusal of a composition; the message names the file and the state. */
export class AslCompositionError extends Error {
  override readonly name = 'AslCompositionError';
}

/**
 * Composes `parent` (its name and text) with the children `readChild` returns by the name an include gives
 * (undefined: no such file). Pure: the caller decides where files come from.
 */
export function composeStateMachine(
  parent: AslSourceFile,
  readChild: (name: string) => string | undefined,
): ComposedStateMachine {
  const root = parseObject(parent);
  const files: AslSourceFile[] = [parent];
  const stateFiles = new Map<string, string>();
  const ctx: Context = { parent: parent.name, readChild, files, stateFiles, children: [], includeNames: new Set() };
  const definition = composeBlock(root, ctx, 'top level');
  for (const name of ctx.includeNames) {
    const file = stateFiles.get(name);
    if (file !== undefined) {
      throw new AslCompositionError(`${file}: state ${name} has the name of an include state of ${parent.name}`);
    }
  }
  checkChildContracts(ctx);
  checkBlocks(definition, ctx, 'top level');
  return { definition, text: `${JSON.stringify(definition, null, 2)}\n`, files, stateFiles };
}

interface IncludedChild {
  readonly includeName: string;
  readonly file: string;
  /** The child's `StartAt`: where references to the include go. */
  readonly entry: string;
  /** The child's states as written. */
  readonly states: StatesBlock;
  readonly exits: ReadonlySet<string>;
}

/** An included child and the composed block it landed in, for the contract check once all blocks are built. */
interface PlacedChild extends IncludedChild {
  readonly block: StatesBlock;
}

interface Context {
  readonly parent: string;
  readonly readChild: (name: string) => string | undefined;
  readonly files: AslSourceFile[];
  readonly stateFiles: Map<string, string>;
  readonly children: PlacedChild[];
  /** Names of include states: they vanish in composition, so no state may take one. */
  readonly includeNames: Set<string>;
}

/** Composes one object holding `StartAt` + `States` (the root, a Map's ItemProcessor, a Parallel branch). */
function composeBlock(machine: Json, ctx: Context, where: string): Json {
  const states = statesOf(machine, ctx.parent, where);
  const entries = Object.entries(states);
  const includes = new Map<string, IncludedChild>();
  for (const [name, state] of entries) if (state.Type === INCLUDE_TYPE) ctx.includeNames.add(name);
  const composed: StatesBlock = {};
  for (const [name, state] of entries) {
    if (state.Type === INCLUDE_TYPE) {
      const child = loadChild(name, state, states, ctx);
      includes.set(name, child);
      for (const [childName, childState] of Object.entries(child.states)) {
        addState(composed, childName, nested(childState, ctx, child.file, childName), child.file, ctx);
      }
    } else {
      addState(composed, name, nested(state, ctx, ctx.parent, name), ctx.parent, ctx);
    }
  }
  const startAt = machine.StartAt;
  const result: Json = { ...machine };
  if (includes.size > 0) {
    // The parent names a child by its include state only: entry references are rewritten, inner ones refused.
    const entryOf = (target: string) => includes.get(target)?.entry ?? target;
    for (const [name, state] of entries) {
      if (state.Type === INCLUDE_TYPE) continue;
      for (const ref of transitionsOf(state)) {
        const owner = [...includes.values()].find((c) => Object.hasOwn(c.states, ref.target));
        if (owner) {
          throw new AslCompositionError(
            `${ctx.parent}: ${name}.${ref.field} → ${ref.target}: a state of ${owner.file}; the parent enters a child only through its include state (${owner.includeName})`,
          );
        }
      }
      composed[name] = retarget(composed[name] as Json, entryOf);
    }
    if (typeof startAt === 'string') result.StartAt = entryOf(startAt);
    for (const child of includes.values()) {
      ctx.children.push({ ...child, block: composed });
    }
  }
  result.States = composed;
  return result;
}

function loadChild(includeName: string, include: Json, parentStates: StatesBlock, ctx: Context): IncludedChild {
  const at = `${ctx.parent}: include state ${includeName}`;
  const unknown = Object.keys(include).filter((key) => !INCLUDE_KEYS.has(key));
  if (unknown.length > 0) throw new AslCompositionError(`${at}: unknown field(s) ${unknown.join(', ')}`);
  const file = include.File;
  if (
    typeof file !== 'string' ||
    !/^[A-Za-z0-9_-][A-Za-z0-9_./-]*\.asl\.json$/.test(file) ||
    file.split('/').includes('..')
  ) {
    throw new AslCompositionError(`${at}: File must be a relative path to a *.asl.json file below the parent's folder`);
  }
  const exitsValue = include.Exits ?? [];
  if (!Array.isArray(exitsValue) || !exitsValue.every((e) => typeof e === 'string')) {
    throw new AslCompositionError(`${at}: Exits must be a list of state names`);
  }
  for (const exit of exitsValue as string[]) {
    const target = Object.hasOwn(parentStates, exit) ? parentStates[exit] : undefined;
    if (!target || target.Type === INCLUDE_TYPE) {
      throw new AslCompositionError(`${at}: Exits names ${exit}, which is not a state beside the include`);
    }
  }
  const text = ctx.readChild(file);
  if (text === undefined) throw new AslCompositionError(`${at}: ${file} does not exist`);
  if (ctx.files.some((f) => f.name === file)) throw new AslCompositionError(`${at}: ${file} is included twice`);
  const source = { name: file, text };
  ctx.files.push(source);
  const child = parseObject(source);
  const extra = Object.keys(child).filter((key) => !CHILD_KEYS.has(key));
  if (extra.length > 0) {
    throw new AslCompositionError(
      `${file}: a child file holds only Comment, StartAt and States (found ${extra.join(', ')})`,
    );
  }
  const states = statesOf(child, file, file);
  const entry = child.StartAt;
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === INCLUDE_TYPE) {
      throw new AslCompositionError(`${file}: ${name} includes a file; only the parent may include (one level)`);
    }
  }
  if (typeof entry !== 'string' || !Object.hasOwn(states, entry)) {
    throw new AslCompositionError(`${file}: StartAt must name one of its states`);
  }
  return { includeName, file, entry, states, exits: new Set(exitsValue as string[]) };
}

/** A state with its inner blocks (Map, Parallel) composed; their states are attributed to `file`. */
function nested(state: Json, ctx: Context, file: string, name: string): Json {
  let result = state;
  for (const key of ['ItemProcessor', 'Iterator'] as const) {
    const inner = state[key];
    if (isObject(inner)) result = { ...result, [key]: composeInner(inner, ctx, file, `${name}.${key}`) };
  }
  if (Array.isArray(state.Branches)) {
    const branches = state.Branches.map((branch, i) =>
      isObject(branch) ? composeInner(branch, ctx, file, `${name}.Branches[${i}]`) : branch,
    );
    result = { ...result, Branches: branches };
  }
  return result;
}

function composeInner(block: Json, ctx: Context, file: string, where: string): Json {
  if (file === ctx.parent) return composeBlock(block, ctx, where);
  // Inside a child, nested blocks are plain ASL: an include there is refused like any other in a child.
  const states = statesOf(block, file, where);
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === INCLUDE_TYPE) {
      throw new AslCompositionError(`${file}: ${name} includes a file; only the parent may include (one level)`);
    }
  }
  const composed: StatesBlock = {};
  for (const [name, state] of Object.entries(states))
    addState(composed, name, nested(state, ctx, file, name), file, ctx);
  return { ...block, States: composed };
}

function addState(block: StatesBlock, name: string, state: Json, file: string, ctx: Context): void {
  if (ctx.includeNames.has(name)) {
    throw new AslCompositionError(`${file}: state ${name} has the name of an include state of ${ctx.parent}`);
  }
  const first = ctx.stateFiles.get(name);
  if (first !== undefined) {
    throw new AslCompositionError(
      first === file
        ? `${file}: state ${name} is defined twice`
        : `state ${name} is defined in both ${first} and ${file}: names are unique across a parent and its children`,
    );
  }
  ctx.stateFiles.set(name, file);
  block[name] = state;
}

/** A child goes to its own states or to its include's Exits, nowhere else. */
function checkChildContracts(ctx: Context): void {
  for (const child of ctx.children) {
    for (const name of Object.keys(child.states)) {
      for (const ref of transitionsOf(child.block[name] as Json)) {
        if (Object.hasOwn(child.states, ref.target) || child.exits.has(ref.target)) continue;
        const owner = ctx.stateFiles.get(ref.target);
        if (owner === undefined) {
          throw new AslCompositionError(
            `${child.file}: ${name}.${ref.field} → ${ref.target}: no state of that name anywhere`,
          );
        }
        const allowed = child.exits.size > 0 ? [...child.exits].join(', ') : 'none';
        throw new AslCompositionError(
          `${child.file}: ${name}.${ref.field} → ${ref.target}: a state of ${owner} that the include ${child.includeName} does not list in Exits (allowed: ${allowed})`,
        );
      }
    }
  }
}

/** Every block of the composed definition: targets exist in their own block, every state is reachable. */
function checkBlocks(machine: Json, ctx: Context, where: string): void {
  const states = machine.States as StatesBlock;
  const fileOf = (name: string) => ctx.stateFiles.get(name) ?? ctx.parent;
  const startAt = machine.StartAt;
  if (typeof startAt !== 'string' || !Object.hasOwn(states, startAt)) {
    throw new AslCompositionError(`${ctx.parent}: ${where}: StartAt ${String(startAt)} is not a state of that block`);
  }
  for (const [name, state] of Object.entries(states)) {
    for (const ref of transitionsOf(state)) {
      if (Object.hasOwn(states, ref.target)) continue;
      const elsewhere = ctx.stateFiles.get(ref.target);
      throw new AslCompositionError(
        elsewhere === undefined
          ? `${fileOf(name)}: ${name}.${ref.field} → ${ref.target}: no state of that name anywhere`
          : `${fileOf(name)}: ${name}.${ref.field} → ${ref.target}: a state of another block (a Map or Parallel goes only to states of its own block)`,
      );
    }
  }
  const reached = new Set<string>([startAt]);
  const queue = [startAt];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    for (const ref of transitionsOf(states[name] as Json)) {
      if (!reached.has(ref.target)) {
        reached.add(ref.target);
        queue.push(ref.target);
      }
    }
  }
  const unreachable = Object.keys(states).filter((name) => !reached.has(name));
  if (unreachable.length > 0) {
    throw new AslCompositionError(
      `${ctx.parent}: ${where}: unreachable after composition (from ${startAt}): ${unreachable.map((n) => `${n} (${fileOf(n)})`).join(', ')}`,
    );
  }
  for (const [name, state] of Object.entries(states)) {
    for (const key of ['ItemProcessor', 'Iterator'] as const) {
      const inner = state[key];
      if (isObject(inner)) checkBlocks(inner, ctx, `${name}.${key}`);
    }
    if (Array.isArray(state.Branches)) {
      state.Branches.forEach((branch, i) => {
        if (isObject(branch)) checkBlocks(branch, ctx, `${name}.Branches[${i}]`);
      });
    }
  }
}

export interface Transition {
  /** Where in the state: `Next`, `Default`, `Choices[0].Next`, `Catch[1].Next`. */
  readonly field: string;
  readonly target: string;
}

/** The transitions a state makes within its block (not into its own Map or Parallel blocks). */
export function transitionsOf(state: Json): Transition[] {
  const out: Transition[] = [];
  if (typeof state.Next === 'string') out.push({ field: 'Next', target: state.Next });
  if (typeof state.Default === 'string') out.push({ field: 'Default', target: state.Default });
  for (const list of ['Choices', 'Catch'] as const) {
    const rules = state[list];
    if (!Array.isArray(rules)) continue;
    rules.forEach((rule, i) => {
      if (isObject(rule) && typeof rule.Next === 'string') out.push({ field: `${list}[${i}].Next`, target: rule.Next });
    });
  }
  return out;
}

/** A copy of `state` whose transitions go through `map`. */
function retarget(state: Json, map: (target: string) => string): Json {
  const result: Json = { ...state };
  if (typeof state.Next === 'string') result.Next = map(state.Next);
  if (typeof state.Default === 'string') result.Default = map(state.Default);
  for (const list of ['Choices', 'Catch'] as const) {
    const rules = state[list];
    if (!Array.isArray(rules)) continue;
    result[list] = rules.map((rule) =>
      isObject(rule) && typeof rule.Next === 'string' ? { ...rule, Next: map(rule.Next) } : rule,
    );
  }
  return result;
}

function statesOf(block: Json, file: string, where: string): StatesBlock {
  const states = block.States;
  if (!isObject(states) || !Object.values(states).every(isObject)) {
    throw new AslCompositionError(`${file}: ${where}: States must be an object of states`);
  }
  return states as StatesBlock;
}

function parseObject(file: AslSourceFile): Json {
  let value: unknown;
  try {
    value = JSON.parse(file.text);
  } catch (error) {
    throw new AslCompositionError(`${file.name} is not valid JSON`, { cause: error });
  }
  if (!isObject(value)) throw new AslCompositionError(`${file.name} is not a JSON object`);
  return value;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
