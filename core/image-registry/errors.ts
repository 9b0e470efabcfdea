/**
 * Errors of the image registry (artifacts, channels). Not pipeline errors (no Step Functions state matches
 * them): the CLI prints `message`, which says what to do next, and scripts branch on `code`.
 */
export type RegistryErrorCode =
  /** A template, build or channel name the registry cannot key or publish. */
  | 'InvalidName'
  /** An artifact record that contradicts itself (no image, malformed AMI id or digest). */
  | 'InvalidArtifact'
  /** Promoting an artifact of another template or build onto a channel. */
  | 'WrongBuild'
  /** Rolling back a channel that has no earlier assignment. */
  | 'NoPreviousAssignment'
  | 'NotFound'
  /** Promoting (or rolling back onto) an artifact that was revoked. */
  | 'Revoked'
  /** Promoting (or rolling back onto) an artifact whose images lifecycle deleted. */
  | 'Retired'
  /** A revoke without a reason, or a lifecycle policy that cannot be applied. */
  | 'InvalidRequest'
  /** A lifecycle run that could not finish every artifact (the next run picks them up again). */
  | 'LifecycleIncomplete'
  /** Another writer changed the channel between our read and our write. */
  | 'Conflict';

export class RegistryError extends Error {
  override readonly name = 'Kiln.RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
  ) {
    super(message);
  }
}
