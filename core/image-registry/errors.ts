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
