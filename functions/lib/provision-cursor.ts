/**
 * The provisioner cursor of a build: which provisioner runs next. RunProvisioner, CheckCommand and every driver
 * that runs provisioners move it the same way.
 */
import type { Ec2HostState } from './build-state.ts';

/** The next provisioner, first attempt; `note` joins the build's notes (shown in the result). */
export function advance<S extends Ec2HostState>(state: S, note?: string): S {
  const p = state.provision;
  if (!p) return state;
  return {
    ...state,
    provision: { index: p.index + 1, count: p.count, attempt: 0 },
    ...(note ? { notes: [...(state.notes ?? []), note] } : {}),
  };
}
