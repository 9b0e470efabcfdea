/**
 * What a Kiln deployment lets a template use, as PrepareBuild reads it from its environment. A load option
 * (LoadOptions.deployment), so it is owned here, below the model; the rule that enforces it is
 * core/validation/rules/DeploymentScope.ts.
 */
export interface DeploymentAllowances {
  /** Full ARNs of the customer-managed KMS keys builds may use; empty: AWS-managed keys only. */
  readonly kmsKeyArns: readonly string[];
}
