import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { KILN_FUNCTIONS, type PermissionScope, placeholderFor } from '../../functions/registry.ts';
import { compareSubstitutions, placeholdersIn } from '../../infra/asl-placeholders.ts';
import { type PermissionTargets, statementsFor } from '../../infra/constructs/function-permissions.ts';
import { PROJECT_ROOT } from '../../infra/kiln-app.ts';
import { BUILD_STATE_MACHINE_FILE, SHARED_SUBSTITUTION_NAMES } from '../../infra/kiln-stack.ts';

// The real registry against the real ASL files: what `cdk synth` will substitute, checked without synthesizing.
const STATEMACHINES = join(PROJECT_ROOT, 'statemachines');
const aslFiles = readdirSync(STATEMACHINES).filter((file) => file.endsWith('.asl.json'));
// Functions invoked by another function (ShellLocal) are not states, so they have no placeholder.
const functionPlaceholders = KILN_FUNCTIONS.filter((spec) => !spec.invokedByFunction).map(placeholderFor);

describe('registry and ASL files agree', () => {
  it('has the build state machine', () => {
    expect(aslFiles).toContain(BUILD_STATE_MACHINE_FILE);
  });

  it.each(aslFiles)('%s: every placeholder has a substitution (a function ARN or a shared value)', (file) => {
    const definition = readFileSync(join(STATEMACHINES, file), 'utf8');
    const offered = [...functionPlaceholders, ...SHARED_SUBSTITUTION_NAMES];
    expect(compareSubstitutions(definition, offered).missing).toEqual([]);
  });

  it('invokes every registry function from some state machine (none is deployed unreachable)', () => {
    const used = new Set(aslFiles.flatMap((file) => placeholdersIn(readFileSync(join(STATEMACHINES, file), 'utf8'))));
    expect(functionPlaceholders.filter((placeholder) => !used.has(placeholder))).toEqual([]);
  });

  it.each(KILN_FUNCTIONS.map((spec) => [spec.id, spec.dir] as const))('%s has functions/%s/handler.ts', (_id, dir) => {
    expect(existsSync(join(PROJECT_ROOT, 'functions', dir, 'handler.ts'))).toBe(true);
  });
});

describe('permission scopes', () => {
  const stack = new Stack(new App(), 'Scopes');
  const targets: PermissionTargets = {
    stack,
    artifactsBucketArn: 'arn:aws:s3:::artifacts',
    templateBucketArn: 'arn:aws:s3:::templates',
    dataKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/data',
    buildsTableArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/builds',
    builderRoleArn: 'arn:aws:iam::111122223333:role/builder',
    secretScope: { prefix: 'kiln/' },
    builderVpcId: 'vpc-0123456789abcdef0',
    provisionLogGroupArn: 'arn:aws:logs:us-east-1:111122223333:log-group:provision',
    buildKmsKeyArns: ['arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
  };
  const scopes = [...new Set(KILN_FUNCTIONS.flatMap((spec) => spec.permissions))] as PermissionScope[];

  it.each(scopes)('%s turns into statements with a sid and no Allow of a service wildcard', (scope) => {
    const statements = statementsFor(scope, targets).map(
      (s) => s.toStatementJson() as { Sid?: string; Action: unknown },
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.Sid).toMatch(/^[A-Za-z0-9]+$/);
      for (const action of [statement.Action].flat() as string[]) expect(action).not.toMatch(/:\*$|^\*$/);
    }
  });
});
