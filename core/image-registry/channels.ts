/**
 * Channels: named pointers per template and build (`latest`, and names users choose such as `prod`) to one
 * artifact each, with the assignment history. Promote assigns an artifact; rollback returns to the assignment
 * before the current one, one step per call (a stack: promote A, promote B, rollback → A; rollback again →
 * what preceded A). Pure transitions over the channel's state; the store writes a transition only if the state
 * it read is still the stored one (`version`), so two concurrent changes cannot both apply to the same state.
 */
import type { Artifact } from './artifact.ts';
import { RegistryError } from './errors.ts';
import { assertName } from './names.ts';
import { assertAssignable } from './revocation.ts';

/** The channel the pipeline moves on every successful build (when the pipeline writes artifacts). */
export const LATEST_CHANNEL = 'latest';

/**
 * Earlier assignments kept for rollback. The stack lives in the channel's one item (DynamoDB's 400 KB item
 * limit); the full history is kept apart, one item per change, and is never trimmed.
 */
export const ROLLBACK_DEPTH = 50;

export interface ChannelRef {
  readonly template: string;
  readonly build: string;
  readonly channel: string;
}

export interface ChannelState extends ChannelRef {
  /** Number of changes so far; 0 for a channel never assigned. The store's optimistic lock. */
  readonly version: number;
  readonly current?: string;
  /** Earlier assignments, oldest first; rollback pops the last one. */
  readonly previous: readonly string[];
  readonly updatedAt?: string;
}

/** One change, as the history keeps it. */
export interface ChannelChange extends ChannelRef {
  /** The channel version this change produced (1 for the first assignment). */
  readonly version: number;
  readonly action: 'promote' | 'rollback';
  readonly artifactId: string;
  readonly replaced?: string;
  readonly at: string;
}

export interface ChannelTransition {
  readonly state: ChannelState;
  /** Undefined when nothing changed (promoting the artifact the channel already holds). */
  readonly change?: ChannelChange;
}

export function emptyChannel(ref: ChannelRef): ChannelState {
  assertName('channel', ref.channel);
  return { template: ref.template, build: ref.build, channel: ref.channel, version: 0, previous: [] };
}

/**
 * Assigns `artifact` to the channel. Idempotent: promoting the current artifact again changes nothing. A revoked
 * or retired artifact is refused (revocation.ts), the pipeline's `latest` included.
 */
export function promote(state: ChannelState, artifact: Artifact, at: string): ChannelTransition {
  assertName('channel', state.channel);
  if (artifact.template !== state.template || artifact.build !== state.build) {
    throw new RegistryError(
      'WrongBuild',
      `artifact ${artifact.artifactId} was built by ${artifact.template} ${artifact.build}, not ${state.template} ` +
        `${state.build}: a channel holds one template's build (see \`kiln artifacts list ${state.template}\`)`,
    );
  }
  assertAssignable(artifact, 'promote', state.channel);
  if (state.current === artifact.artifactId) return { state };
  const previous = state.current === undefined ? state.previous : [...state.previous, state.current];
  return transition(state, 'promote', artifact.artifactId, previous.slice(-ROLLBACK_DEPTH), at);
}

/** The assignment a rollback would return to, if any. */
export function rollbackTarget(state: ChannelState): string | undefined {
  return state.previous.at(-1);
}

/**
 * Returns the channel to the assignment before the current one. `target`, when given, is that assignment's
 * record: a revoked or retired one is refused rather than skipped (skipping would land on an assignment older
 * than the user asked for, silently); the message says to promote the wanted artifact instead.
 */
export function rollback(state: ChannelState, at: string, target?: Artifact): ChannelTransition {
  const targetId = rollbackTarget(state);
  if (targetId === undefined) {
    const what = state.current === undefined ? 'has never been assigned' : `has only ever held ${state.current}`;
    throw new RegistryError(
      'NoPreviousAssignment',
      `channel ${state.channel} of ${state.template} ${state.build} ${what}: there is no earlier assignment to ` +
        'roll back to (promote an artifact instead)',
    );
  }
  if (target?.artifactId === targetId) assertAssignable(target, 'rollback', state.channel);
  return transition(state, 'rollback', targetId, state.previous.slice(0, -1), at);
}

function transition(
  state: ChannelState,
  action: ChannelChange['action'],
  artifactId: string,
  previous: readonly string[],
  at: string,
): ChannelTransition {
  const version = state.version + 1;
  const ref = { template: state.template, build: state.build, channel: state.channel };
  return {
    state: { ...ref, version, current: artifactId, previous, updatedAt: at },
    change: {
      ...ref,
      version,
      action,
      artifactId,
      ...(state.current === undefined ? {} : { replaced: state.current }),
      at,
    },
  };
}
