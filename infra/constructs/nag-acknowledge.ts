import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on a construct (and everything under it). A reason is mandatory and must say
 * why the finding does not apply here, because acknowledgements end up in the validation report that reviewers
 * read instead of the code.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < 20) throw new Error(`acknowledge(${id}): give a real reason, not "${reason}"`);
  Validations.of(scope).acknowledge({ id, reason });
}
