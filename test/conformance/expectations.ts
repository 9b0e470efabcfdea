/**
 * What "names the same problem as `reason`" means, per case: every pattern must match the text of one of
 * Kiln's error diagnostics (summary, detail, file), and `line`, where Packer reports one, must be the line of
 * a matching diagnostic. Written by reading each case's `reason`; the held-back evaluation cases are not
 * here, so nothing in Kiln may depend on this table.
 */
export interface ProblemExpectation {
  readonly patterns: readonly RegExp[];
  readonly line?: number;
}

const AT_LEAST_ONE_BUILDER = [/at least one builder|no builders/i];
const MOCK_BUILDER = (name: string) => [new RegExp(`\\b${name}\\b`), /builder/i];

export const PROBLEMS: Readonly<Record<string, ProblemExpectation>> = {
  'packer-hcl2upgrade-aws-access-config-json': { patterns: [/instance_type|iam_instance_profile/] },
  'packer-hcl2upgrade-variables-only-json': { patterns: AT_LEAST_ONE_BUILDER },
  'packer-hcl2upgrade-unknown-builder-json': { patterns: MOCK_BUILDER('potatoes') },
  'packer-validate-except-hcl-fail': { patterns: [/target/] },
  'packer-validate-except-json': { patterns: [/101\.0\.0|min_packer_version/] },
  'packer-validate-null-var-json': { patterns: [/null_var/, /not set|required|unset/i] },
  'packer-validate-var-foo-no-default-hcl': { patterns: [/\bfoo\b/, /unset|not set|required/i] },
  'packer-validate-invalid-packer-block-hcl': { patterns: [/version/, /unsupported argument|not expected/i], line: 2 },
  'packer-validate-invalid-broken-json': { patterns: [/provisioners/i] },
  'packer-validate-invalid-missing-build-block-hcl': { patterns: [/file\.cho\b/] },
  'packer-hcl-wrong-pause-before': { patterns: [/pause_before|duration/] },
  'packer-hcl-inspect-aws-builds': { patterns: [/example-1|example-2/] },
  // Mock-plugin attributes: the builders' (int, nested_slice, not_squashed) or the mock amazon-ami data
  // source's `string`, which Kiln's offline data-source schemas refuse first, as Packer's Initialize does.
  'packer-hcl2template-complete-dir': { patterns: [/nested_slice|not_squashed|\bint\b|named "string"/] },
  'packer-hcl2template-provisioner-onlyexcept': {
    patterns: [/iso_url|iso_checksum|ssh_username|ami_name|source_ami|instance_type/],
  },
  'packer-hcl2template-two-error-cleanup': { patterns: [/error-cleanup-provisioner/] },
  'packer-hcl2template-variable-validation-invalid-default': { patterns: [/image_id|ami-/] },
  'packer-core-validate-only-unknown-builder': { patterns: [/\bbar\b/, /only/] },
  'packer-core-build-prov-override': { patterns: MOCK_BUILDER('test') },
  'packer-core-build-split-func': { patterns: MOCK_BUILDER('test') },
  'packer-core-build-var-build-name': { patterns: MOCK_BUILDER('test') },
  'packer-core-build-template-path': { patterns: MOCK_BUILDER('test') },
  'sdk-error-beginning': { patterns: [/invalid character|parsing JSON|unexpected/i], line: 1 },
  'sdk-error-end': { patterns: [/invalid character|parsing JSON|unexpected|expected/i], line: 1 },
  'sdk-error-duplicate-config': { patterns: [/\bfoo\b/, /duplicate/i] },
  'sdk-error-duplicate-variables': { patterns: [/variables/, /duplicate/i] },
  'sdk-malformed': { patterns: [/invalid character|parsing JSON|unexpected|expected|end/i], line: 16 },
  'sdk-parse-basic': { patterns: MOCK_BUILDER('something') },
  'sdk-parse-builder-no-type': { patterns: [/builder/i, /type/] },
  'sdk-parse-comment': { patterns: MOCK_BUILDER('something') },
  'sdk-parse-min-version': { patterns: AT_LEAST_ONE_BUILDER },
  'sdk-parse-pp-string': { patterns: AT_LEAST_ONE_BUILDER },
  'sdk-parse-pp-slice': { patterns: AT_LEAST_ONE_BUILDER },
  'sdk-parse-pp-multi': { patterns: AT_LEAST_ONE_BUILDER },
  'sdk-parse-pp-no-type': { patterns: [/post-processor/i, /type/] },
  'sdk-parse-provisioner-no-type': { patterns: [/provisioner/i, /type/] },
  'sdk-parse-provisioner-override': { patterns: AT_LEAST_ONE_BUILDER },
  'sdk-parse-provisioner-pause-before': { patterns: AT_LEAST_ONE_BUILDER },
  'sdk-parse-provisioner-retry': { patterns: AT_LEAST_ONE_BUILDER },
  'sdk-validate-bad-override': { patterns: [/\bbar\b/, /override/] },
  'sdk-validate-bad-prov-only': { patterns: [/\bbar\b/, /only/] },
  'sdk-validate-good-pp-only': { patterns: MOCK_BUILDER('foo') },
  'sdk-validate-good-prov-timeout': { patterns: MOCK_BUILDER('foo') },
  'sdk-validate-no-builders': { patterns: AT_LEAST_ONE_BUILDER },
  'amazon-ebs-interpolated-run-tags-hcl': { patterns: [/ami_name|AMIName/i] },
  'amazon-ebs-interpolated-run-tags-json': { patterns: [/ami_name|AMIName/i] },
  'amazon-ebs-interpolated-skip-run-tags-hcl': { patterns: [/ami_name|AMIName/i] },
  'boxcutter-ubuntu-json': { patterns: [/iso_checksum_type/] },
  'sam-caldwell-windows10-dir': { patterns: [/iso_checksum_type/] },
  // unsupported-plugin: the diagnostic must name the missing plugin or component.
  'image-builder-ova-packer-node-json': { patterns: [/goss/] },
  'stefanscherer-windows10-json': { patterns: [/parallels/] },
};

/**
 * Cases where Kiln disagrees with the corpus today, with the reason. The conformance test asserts that
 * exactly these disagree: fixing one makes the test fail until its entry is removed, and a new
 * disagreement fails until it is understood and listed. Keys are case ids.
 */
export const KNOWN_DISAGREEMENTS: Readonly<Record<string, string>> = {
  'packer-hcl2template-complete-dir':
    'Template layer only (the overall verdict, invalid, agrees): the corpus calls the template layer valid because ' +
    "Packer's own tests register mock plugins; Kiln schema-checks data sources while loading (issue 13), so the " +
    "mock amazon-ami data source's `string` argument is refused there, as the real plugin would refuse it, and " +
    "checks every component body's block/argument shape while loading (HCL's decoder), so the mock `nested` and " +
    '`nested_slice` blocks are refused there too.',
  'packer-validate-except-hcl-pass':
    'HCL front end: -except=pear must drop the rest of that post-processors {} chain (Packer stops a chain at ' +
    'the first excluded post-processor), so shell-local "banana" (no command) is never validated; Kiln keeps it.',
  'packer-validate-except-hcl-fail':
    'Two gaps: the same chain rule as the -pass case (after excluding "apple" the chain ends), and the `file` ' +
    'builder has no Kiln schema (agent-only warning), so its missing `target` is not reported.',
  'image-builder-ova-packer-node-json':
    'Kiln names the goss plugin, but also reports ssh_username empty (an undeclared user variable that the ' +
    'upstream Makefile fills from a generated packer-common.json); Packer stops at the missing plugin first, ' +
    'so its verdict is unsupported-plugin while Kiln, reporting every error, says invalid.',
  'sam-caldwell-windows10-dir':
    'The HCL front end stops at "Reference to undeclared input variable" (var.disk_size, set only in the ' +
    'pkrvars file) and component validation never runs, so the iso_checksum_type "Unsupported argument" ' +
    'errors Packer reports are not reached.',
};

/**
 * JSON cases where Kiln's exit code differs from Packer 1.6.6's, and why. The verdict the suite holds Kiln
 * to is modern Packer's (corpus `expect`); 1.6.6 differs from it on these by design of the corpus.
 */
export const KILN_VS_PACKER_1_6_6: Readonly<Record<string, string>> = {
  'packer-hcl2upgrade-complete-json':
    'aws_secretsmanager in variables: packer calls AWS while loading and fails without credentials (rc 1); ' +
    'Kiln validates offline, warns that the variables need credentials and resolves them at build time (rc 0).',
  'stefanscherer-windows10-json':
    'parallels-iso was built into packer 1.6.6 (rc 0); modern Packer needs the third-party Parallels plugin, ' +
    'which Kiln reports (rc 1, corpus verdict unsupported-plugin).',
};
