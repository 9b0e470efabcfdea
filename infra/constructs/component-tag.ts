import { Tags } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Tag key carried by every resource Kiln deploys, so cost reports and audits can group by part of Kiln. */
export const COMPONENT_TAG = 'kiln:component';

/** Tags every taggable resource under `scope` with `kiln:component = <component>`. */
export function tagComponent(scope: IConstruct, component: string): void {
  // cfn-lint's schema (and older CloudFormation regions) reject Tags on dashboards, which carry no cost anyway.
  Tags.of(scope).add(COMPONENT_TAG, component, { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] });
}
