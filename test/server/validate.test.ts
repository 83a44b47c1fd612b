// Tests for src/server/validate.ts: AWS-worded validation errors on real Patch Manager requests, serialization
// errors for wrong JSON types, the Java → JavaScript pattern translation (every pattern the model reaches), and
// the validator's throughput.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileJavaPattern, createRequestValidator, type GeneratedModel, type ValidationOutcome } from '../../src/server/validate.ts';
import model from '../../src/generated/ssm-model.json' with { type: 'json' };

const validator = createRequestValidator();

function validation(outcome: ValidationOutcome): string {
  assert.equal(outcome.ok, false, 'expected a failure');
  if (outcome.ok) throw new Error('unreachable');
  assert.equal(outcome.code, 'ValidationException', outcome.message);
  return outcome.message;
}

function serialization(outcome: ValidationOutcome): string {
  assert.equal(outcome.ok, false, 'expected a failure');
  if (outcome.ok) throw new Error('unreachable');
  assert.equal(outcome.code, 'SerializationException', outcome.message);
  return outcome.message;
}

const OS_ENUM =
  '[WINDOWS, AMAZON_LINUX, AMAZON_LINUX_2, AMAZON_LINUX_2022, UBUNTU, REDHAT_ENTERPRISE_LINUX, SUSE, CENTOS, ORACLE_LINUX, DEBIAN, MACOS, RASPBIAN, ROCKY_LINUX, ALMA_LINUX, AMAZON_LINUX_2023]';

test('knows() lists exactly the generated operations', () => {
  assert.equal(validator.knows('CreatePatchBaseline'), true);
  assert.equal(validator.knows('UpdateManagedInstanceRole'), true);
  assert.equal(validator.knows('SendCommand'), false);
  assert.equal(validator.knows('AmazonSSM.CreatePatchBaseline'), false);
  assert.equal(validator.isAwsOperation('SendCommand'), true);
  assert.equal(validator.targetPrefix, 'AmazonSSM');
  for (const op of Object.keys(model.operations)) assert.equal(validator.knows(op), true, op);
  assert.throws(() => validator.validate('NoSuchOperation', {}), /not in the model/);
});

test('a valid CreatePatchBaseline passes', () => {
  const outcome = validator.validate('CreatePatchBaseline', {
    Name: 'prod-linux_baseline.v2',
    OperatingSystem: 'AMAZON_LINUX_2023',
    Description: 'Security updates after 7 days',
    ApprovalRules: {
      PatchRules: [
        {
          PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }, { Key: 'SEVERITY', Values: ['Critical', 'Important'] }] },
          ApproveAfterDays: 7,
          ComplianceLevel: 'HIGH',
          EnableNonSecurity: false,
        },
      ],
    },
    ApprovedPatches: ['kernel-6.1.0'],
    RejectedPatchesAction: 'BLOCK',
    ClientToken: 'c0ffee',
    Tags: [{ Key: 'team', Value: 'ops' }],
    SomethingAwsDoesNotModel: { ignored: [1, 2, 3] },
  });
  assert.deepEqual(outcome, { ok: true });
});

test('bad OperatingSystem enum → exact AWS message', () => {
  assert.equal(
    validation(validator.validate('CreatePatchBaseline', { Name: 'my-baseline', OperatingSystem: 'FOO' })),
    `1 validation error detected: Value 'FOO' at 'operatingSystem' failed to satisfy constraint: Member must satisfy enum value set: ${OS_ENUM}`,
  );
});

test('missing required Name', () => {
  assert.equal(
    validation(validator.validate('CreatePatchBaseline', { OperatingSystem: 'UBUNTU' })),
    "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
  );
});

test('null members are treated as absent', () => {
  assert.equal(
    validation(validator.validate('CreatePatchBaseline', { Name: null, Description: null })),
    "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
  );
  assert.deepEqual(validator.validate('DescribePatchBaselines', { MaxResults: null, Filters: null, NextToken: null }), { ok: true });
  assert.deepEqual(validator.validate('CreatePatchBaseline', { Name: 'abc', GlobalFilters: null, ApprovalRules: { PatchRules: [] } }), { ok: true });
  // A null required member is still missing.
  assert.equal(
    validation(validator.validate('CreatePatchBaseline', { Name: 'abc', ApprovalRules: { PatchRules: null } })),
    "1 validation error detected: Value null at 'approvalRules.patchRules' failed to satisfy constraint: Member must not be null",
  );
});

test('Name too short and not matching the pattern: one clause per violated constraint', () => {
  assert.equal(
    validation(validator.validate('CreatePatchBaseline', { Name: 'a!' })),
    '2 validation errors detected: ' +
      "Value 'a!' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{3,128}$; " +
      "Value 'a!' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 3",
  );
  assert.equal(
    validation(validator.validate('CreatePatchBaseline', { Name: 'x'.repeat(129) })),
    '2 validation errors detected: ' +
      `Value '${'x'.repeat(129)}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{3,128}$; ` +
      `Value '${'x'.repeat(129)}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 128`,
  );
});

test('nested list paths: 21 filter values in ApprovalRules.PatchRules[0].PatchFilterGroup.PatchFilters[0]', () => {
  const values = Array.from({ length: 21 }, (_, i) => `v${i + 1}`);
  assert.equal(
    validation(
      validator.validate('CreatePatchBaseline', {
        Name: 'my-baseline',
        ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRODUCT', Values: values }] } }] },
      }),
    ),
    `1 validation error detected: Value '[${values.join(', ')}]' at 'approvalRules.patchRules.1.member.patchFilterGroup.patchFilters.1.member.values' ` +
      'failed to satisfy constraint: Member must have length less than or equal to 20',
  );
});

test('second list element, enum inside a structure, and a range inside a list element', () => {
  const message = validation(
    validator.validate('UpdatePatchBaseline', {
      BaselineId: 'pb-0123456789abcdef0',
      GlobalFilters: { PatchFilters: [{ Key: 'PRODUCT', Values: ['*'] }, { Key: 'COLOUR', Values: ['red'] }] },
      ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [] }, ApproveAfterDays: 361 }] },
    }),
  );
  assert.equal(
    message,
    '2 validation errors detected: ' +
      "Value '361' at 'approvalRules.patchRules.1.member.approveAfterDays' failed to satisfy constraint: Member must have value less than or equal to 360; " +
      "Value 'COLOUR' at 'globalFilters.patchFilters.2.member.key' failed to satisfy constraint: Member must satisfy enum value set: " +
      '[ARCH, ADVISORY_ID, BUGZILLA_ID, PATCH_SET, PRODUCT, PRODUCT_FAMILY, CLASSIFICATION, CVE_ID, EPOCH, MSRC_SEVERITY, NAME, PATCH_ID, SECTION, PRIORITY, REPOSITORY, RELEASE, SEVERITY, SECURITY, VERSION]',
  );
});

test('bad elements of a list of strings: one clause on the list listing the element constraints', () => {
  assert.equal(
    validation(
      validator.validate('CreatePatchBaseline', {
        Name: 'my-baseline',
        GlobalFilters: { PatchFilters: [{ Key: 'PRODUCT', Values: ['', 'ok', 'x'.repeat(65)] }] },
      }),
    ),
    `1 validation error detected: Value '[, ok, ${'x'.repeat(65)}]' at 'globalFilters.patchFilters.1.member.values' failed to satisfy constraint: ` +
      'Member must satisfy constraint: [Member must have length less than or equal to 64, Member must have length greater than or equal to 1]',
  );
  assert.equal(
    validation(validator.validate('RemoveTagsFromResource', { ResourceType: 'PatchBaseline', ResourceId: 'pb-0123456789abcdef0', TagKeys: ['ok', 'bad#key'] })),
    "1 validation error detected: Value '[ok, bad#key]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: " +
      '[Member must have length less than or equal to 128, Member must have length greater than or equal to 1, ' +
      'Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$]',
  );
});

test('MaxResults out of range (each operation has its own bounds)', () => {
  assert.equal(
    validation(validator.validate('DescribePatchBaselines', { MaxResults: 101 })),
    "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100",
  );
  assert.equal(
    validation(validator.validate('DescribePatchBaselines', { MaxResults: 0 })),
    "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
  );
  assert.equal(
    validation(validator.validate('DescribeInstanceInformation', { MaxResults: 60 })),
    "1 validation error detected: Value '60' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50",
  );
  assert.equal(
    validation(validator.validate('DescribeInstancePatchStates', { InstanceIds: ['i-0123456789abcdef0'], MaxResults: 5 })),
    "1 validation error detected: Value '5' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 10",
  );
  assert.deepEqual(validator.validate('DescribePatchBaselines', { MaxResults: 100 }), { ok: true });
});

test('wrong JSON types → SerializationException naming the member path', () => {
  assert.equal(serialization(validator.validate('DescribePatchBaselines', { MaxResults: '10' })), "Expected Integer for 'MaxResults' but got String");
  assert.equal(
    serialization(validator.validate('DescribePatchBaselines', { MaxResults: 10.5 })),
    "Expected Integer for 'MaxResults' but got Number 10.5, which is not an integer",
  );
  assert.equal(
    serialization(validator.validate('DescribePatchBaselines', { MaxResults: 2 ** 31 })),
    "Expected Integer for 'MaxResults' but got Number 2147483648, which is outside the 32-bit integer range",
  );
  assert.equal(serialization(validator.validate('CreatePatchBaseline', { Name: 123 })), "Expected String for 'Name' but got Number");
  assert.equal(serialization(validator.validate('CreatePatchBaseline', { Name: 'abc', Tags: { Key: 'a', Value: 'b' } })), "Expected List for 'Tags' but got Object");
  assert.equal(serialization(validator.validate('CreatePatchBaseline', { Name: 'abc', GlobalFilters: [] })), "Expected Structure for 'GlobalFilters' but got List");
  assert.equal(
    serialization(validator.validate('CreatePatchBaseline', { Name: 'abc', ApprovedPatchesEnableNonSecurity: 'true' })),
    "Expected Boolean for 'ApprovedPatchesEnableNonSecurity' but got String",
  );
  assert.equal(
    serialization(
      validator.validate('CreatePatchBaseline', {
        Name: 'abc',
        ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRODUCT', Values: ['a', 7] }] } }] },
      }),
    ),
    "Expected String for 'ApprovalRules.PatchRules[0].PatchFilterGroup.PatchFilters[0].Values[1]' but got Number",
  );
  assert.equal(
    serialization(
      validator.validate('PutComplianceItems', {
        ResourceId: 'i-0123456789abcdef0',
        ResourceType: 'ManagedInstance',
        ComplianceType: 'Patch',
        ExecutionSummary: { ExecutionTime: '2024-05-01T00:00:00Z' },
        Items: [],
      }),
    ),
    "Expected Timestamp (epoch seconds) for 'ExecutionSummary.ExecutionTime' but got String",
  );
  assert.equal(
    serialization(validator.validate('PutInventory', { InstanceId: 'i-0123456789abcdef0', Items: [{ TypeName: 'AWS:Application', SchemaVersion: '1.0', CaptureTime: '2024-05-01T00:00:00Z', Content: [{ Name: 7 }] }] })),
    'Expected String for \'Items[0].Content[0]["Name"]\' but got Number',
  );
  // A serialization error wins over validation errors found earlier in the same request.
  assert.equal(serialization(validator.validate('CreatePatchBaseline', { OperatingSystem: 'FOO', Tags: 'x' })), "Expected List for 'Tags' but got String");
});

test('the body must be a JSON object', () => {
  assert.equal(serialization(validator.validate('GetPatchBaseline', [])), 'Expected a JSON object as the request body but got List');
  assert.equal(serialization(validator.validate('GetPatchBaseline', null)), 'Expected a JSON object as the request body but got null');
  assert.equal(serialization(validator.validate('GetPatchBaseline', 'x')), 'Expected a JSON object as the request body but got String');
  assert.equal(serialization(validator.validate('GetPatchBaseline', undefined)), 'Expected a JSON object as the request body but got nothing');
  assert.deepEqual(validator.validate('GetDefaultPatchBaseline', {}), { ok: true });
});

test('DescribeInstancePatches InstanceId pattern', () => {
  assert.equal(
    validation(validator.validate('DescribeInstancePatches', { InstanceId: 'i-123' })),
    "1 validation error detected: Value 'i-123' at 'instanceId' failed to satisfy constraint: Member must satisfy regular expression pattern: (^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)",
  );
  for (const id of ['i-0123456789abcdef0', 'i-12345678', 'mi-0123456789abcdef0']) {
    assert.deepEqual(validator.validate('DescribeInstancePatches', { InstanceId: id }), { ok: true }, id);
  }
  // The pattern has anchors but also a length window; a trailing newline must not sneak through `$`.
  assert.equal(validator.validate('DescribeInstancePatches', { InstanceId: 'i-12345678\n' }).ok, false);
});

test('Tags with unicode keys and values are accepted; disallowed characters are not', () => {
  assert.deepEqual(
    validator.validate('AddTagsToResource', {
      ResourceType: 'PatchBaseline',
      ResourceId: 'pb-0123456789abcdef0',
      Tags: [
        { Key: 'Équipe données', Value: 'ça marche' },
        { Key: 'ключ', Value: '値 42' },
        { Key: 'aws-cost:centre/1=+@', Value: '' },
      ],
    }),
    { ok: true },
  );
  assert.equal(
    validation(validator.validate('AddTagsToResource', { ResourceType: 'PatchBaseline', ResourceId: 'pb-0123456789abcdef0', Tags: [{ Key: 'a#b', Value: 'v' }] })),
    "1 validation error detected: Value 'a#b' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$",
  );
});

test('string length counts UTF-16 code units, like Java', () => {
  // 64 astral characters = 128 code units: exactly the TagKey maximum; one more is too long.
  const key = '😀'.repeat(64);
  assert.equal(compileJavaPattern('^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$').test(key), false);
  const outcome = validator.validate('CreatePatchBaseline', { Name: 'abc', Description: '😀'.repeat(513) });
  assert.equal(
    validation(outcome),
    `1 validation error detected: Value '${'😀'.repeat(513)}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024`,
  );
  assert.deepEqual(validator.validate('CreatePatchBaseline', { Name: 'abc', Description: '😀'.repeat(512) }), { ok: true });
});

test('several errors across members are counted and joined with "; "', () => {
  const message = validation(validator.validate('RegisterPatchBaselineForPatchGroup', { BaselineId: 'short' }));
  assert.equal(
    message,
    '3 validation errors detected: ' +
      "Value 'short' at 'baselineId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-:/]{20,128}$; " +
      "Value 'short' at 'baselineId' failed to satisfy constraint: Member must have length greater than or equal to 20; " +
      "Value null at 'patchGroup' failed to satisfy constraint: Member must not be null",
  );
});

test('sensitive members are not echoed (PatchSource.Configuration)', () => {
  assert.equal(
    validation(validator.validate('CreatePatchBaseline', { Name: 'abc', Sources: [{ Name: 'repo', Products: ['AmazonLinux2'], Configuration: '' }] })),
    "1 validation error detected: Value at 'sources.1.member.configuration' failed to satisfy constraint: Member must have length greater than or equal to 1",
  );
  assert.equal(
    validation(validator.validate('CreatePatchBaseline', { Name: 'abc', Sources: [{ Name: 'repo', Products: ['AmazonLinux2'] }] })),
    "1 validation error detected: Value at 'sources.1.member.configuration' failed to satisfy constraint: Member must not be null",
  );
});

test('maps: keys and values reported once each, keys first', () => {
  const message = validation(
    validator.validate('PutInventory', {
      InstanceId: 'i-0123456789abcdef0',
      Items: [{ TypeName: 'Custom:Thing', SchemaVersion: '1.0', CaptureTime: '2024-05-01T00:00:00Z', Context: { '': 'x', ok: 'y'.repeat(4097) } }],
    }),
  );
  assert.equal(
    message,
    '2 validation errors detected: ' +
      `Value '{=x, ok=${'y'.repeat(4097)}}' at 'items.1.member.context' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 64, Member must have length greater than or equal to 1]; ` +
      `Value '{=x, ok=${'y'.repeat(4097)}}' at 'items.1.member.context' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 4096, Member must have length greater than or equal to 0]`,
  );
});

test('null elements inside lists', () => {
  assert.equal(
    validation(validator.validate('AddTagsToResource', { ResourceType: 'PatchBaseline', ResourceId: 'pb-0123456789abcdef0', Tags: [null] })),
    "1 validation error detected: Value null at 'tags.1.member' failed to satisfy constraint: Member must not be null",
  );
  assert.equal(
    validation(validator.validate('CreatePatchBaseline', { Name: 'abc', ApprovedPatches: ['KB1', null] })),
    "1 validation error detected: Value '[KB1, null]' at 'approvedPatches' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 100, Member must have length greater than or equal to 1, Member must not be null]",
  );
});

test('ComplianceType must match the whole value (Java matches())', () => {
  const base = { ResourceId: 'i-0123456789abcdef0', ResourceType: 'ManagedInstance', ExecutionSummary: { ExecutionTime: 1714521600 }, Items: [] };
  for (const ok of ['Patch', 'Association', 'Custom:MyCheck']) {
    assert.deepEqual(validator.validate('PutComplianceItems', { ...base, ComplianceType: ok }), { ok: true }, ok);
  }
  for (const bad of ['Patch extra', 'Custom:x', 'Custom:', 'P', 'Custom:ab-c']) {
    assert.equal(validator.validate('PutComplianceItems', { ...base, ComplianceType: bad }).ok, false, bad);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Pattern translation

function patternsOf(shapes: Record<string, { pattern?: string }>): string[] {
  return [...new Set(Object.values(shapes).flatMap((s) => (s.pattern === undefined ? [] : [s.pattern])))].sort();
}

test('every pattern reachable in the generated model compiles', () => {
  const patterns = patternsOf(model.shapes as Record<string, { pattern?: string }>);
  assert.ok(patterns.length >= 10, `only ${patterns.length} patterns found`);
  for (const p of patterns) {
    const re = compileJavaPattern(p);
    assert.ok(re.flags.includes('u'), p);
    assert.ok(re.source.startsWith('^(?:') || re.source.startsWith('(?<![^])'), `${p} is not anchored: ${re.source}`);
  }
});

const referenceModelPath = process.env.PATCHLINE_SSM_MODEL ?? fileURLToPath(new URL('../../../shared/reference/ssm-service-2.json', import.meta.url));

test('every pattern of the full AWS model compiles', { skip: existsSync(referenceModelPath) ? false : `reference model not found at ${referenceModelPath}` }, () => {
  const aws = JSON.parse(readFileSync(referenceModelPath, 'utf8')) as { shapes: Record<string, { pattern?: string }> };
  const patterns = patternsOf(aws.shapes);
  assert.ok(patterns.length > 40);
  for (const p of patterns) assert.doesNotThrow(() => compileJavaPattern(p), p);
});

test('translated patterns match like Java', () => {
  const cases: Array<[string, string[], string[]]> = [
    ['^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$', ['Équipe données', 'ключ 1', '名前', 'a_b.c:d/e=f+g-h@i', '', 'x\u00a0y', '٣'], ['a#b', 'tab\there', 'emoji😀', 'q?']],
    ['[A-Za-z0-9_\\-]\\w+|Custom:[a-zA-Z0-9_\\-]\\w+', ['Patch', '-ab', 'Custom:My_Type1'], ['Patch!', 'Patch extra', 'Custom:x', 'é1', 'a']],
    ['(^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)', ['i-0123456789abcdef0', 'i-abcdefgh', 'mi-0123456789abcdef0'], ['i-123', 'mi-12345678', 'i-0123456789abcdef0\n', 'xi-12345678']],
    ['(^mi-[0-9a-f]{17}$)|(^eks_c:[0-9A-Za-z][A-Za-z0-9\\-_]{0,99}_\\w{17}$)', ['mi-0123456789abcdef0', 'eks_c:my-cluster_0123456789abcdef0'], ['mi-0123456789ABCDEF0', 'eks_c:_x_0123456789abcdef0']],
    ['^(?!\\s*$).+', ['a', ' a ', '\u00a0'], ['', '   ', '\t\n', 'a\nb']],
    ['^(AWS|Custom):.*$', ['AWS:Application', 'Custom:x', 'Custom:'], ['aws:Application', 'Other:x', 'Custom:a\nb']],
    ['^([0-9]{1,6})(\\.[0-9]{1,6})$', ['1.0', '123456.654321'], ['1', '1.0.0', '1234567.0']],
    ['^[0-9]{1,6}(\\.[0-9]{1,6}){2,3}$', ['3.2.1', '1.2.3.4'], ['1.2', '1.2.3.4.5']],
    ['^.{1,128}$', ['x', 'x'.repeat(128)], ['', 'x'.repeat(129), 'a\u0085b', 'a\rb']],
    ['^[a-zA-Z0-9_\\-.]{3,128}$', ['abc', 'a-b_c.d'], ['ab', 'a b c', 'åbc']],
    ['^[a-zA-Z0-9_\\-:/]{20,128}$', ['pb-0123456789abcdef0', 'arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-0c7e89f711c3095f4'], ['pb-0123', 'pb-0123456789abcdef0!']],
    ['^https://.+$|^s3://([^/]+)/(.*?([^/]+))$', ['https://example.com/x', 's3://bucket/key', 's3://bucket/a/b'], ['http://x', 's3://bucket/', 's3://bucket']],
    ['^(20)[0-9][0-9]-(0[1-9]|1[012])-([12][0-9]|3[01]|0[1-9])(T)(2[0-3]|[0-1][0-9])(:[0-5][0-9])(:[0-5][0-9])(Z)$', ['2024-02-29T23:59:59Z'], ['2024-02-29T24:00:00Z', '2024-02-29T12:00:00', '1999-01-01T00:00:00Z']],
    ['^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', ['3f2504e0-4f89-41d3-9a0c-0305e82c3301'], ['3f2504e0-4f89-41d3-9a0c-0305e82c330']],
    ['^[a-zA-Z0-9:_-]*$', ['', 'a:b_c-d'], ['a b']],
    // Patterns of the wider model that need the converter's less common paths.
    ['[\\s\\S]*\\S[\\s\\S]*', ['a', ' a ', '\u00a0', '\u2003'], ['', ' ', '\t\r\n']],
    ['(?i)all|[0-9]{12}', ['all', 'ALL', 'All', '123456789012'], ['alll', '12345']],
    ['^arn:aws[a-z0-9-]*:iam::\\d{12}:role\\/[\\w-\\/.@+=,]{1,1017}$', ['arn:aws:iam::123456789012:role/my-role', 'arn:aws:iam::123456789012:role/path/to/role@x'], ['arn:aws:iam::123456789012:role/', 'arn:aws:iam::123:role/x']],
    ['^\\/[\\w\\.\\-\\:\\/]*$', ['/a/b.c:d-e'], ['a/b', '/a b']],
    ['arn:(aws[a-zA-Z-]*)?:ssm:[a-z0-9-\\.]{0,63}:[0-9]{12}:opsitem.*', ['arn:aws:ssm:us-east-1:123456789012:opsitem/oi-1'], ['arn:aws:ssm:US:123456789012:opsitem']],
    ['^(range|count|sum)', ['range', 'sum'], ['ranges', 'avg']],
    ['^[\\p{L}\\p{Z}\\p{N}_.:/=\\-@]*$|resource-groups:ResourceTypeFilters|resource-groups:Name', ['Name x', 'resource-groups:Name'], ['a+b']],
  ];
  for (const [pattern, matches, rejects] of cases) {
    const re = compileJavaPattern(pattern);
    for (const s of matches) assert.equal(re.test(s), true, `${pattern} should match ${JSON.stringify(s)} (${re})`);
    for (const s of rejects) assert.equal(re.test(s), false, `${pattern} should not match ${JSON.stringify(s)} (${re})`);
  }
});

test('Java escapes and constructs the u flag would reject are translated', () => {
  assert.equal(compileJavaPattern('a\\_b\\:c').test('a_b:c'), true);
  assert.equal(compileJavaPattern('[\\w-\\/]+').test('a-/b'), true);
  assert.equal(compileJavaPattern('x}y]z').test('x}y]z'), true);
  assert.equal(compileJavaPattern('\\Qa.b*\\E+').test('a.b*b*'), false);
  assert.equal(compileJavaPattern('\\Qa.b*\\E').test('a.b*'), true);
  assert.equal(compileJavaPattern('[]a]+').test(']a]'), true);
  assert.equal(compileJavaPattern('\\p{Alpha}+\\P{Digit}').test('abc!'), true);
  assert.equal(compileJavaPattern('\\p{IsLatin}+').test('Ærø'), true);
  assert.equal(compileJavaPattern('\\p{IsAlphabetic}+').test('Δx'), true);
  assert.equal(compileJavaPattern('\\x{1F600}\\u00e9\\0101').test('😀éA'), true);
  assert.equal(compileJavaPattern('(a)(b)\\2\\1').test('abba'), true);
  assert.equal(compileJavaPattern('a$\\n').test('a\n'), true, "Java's $ matches before a final line terminator");
  assert.equal(compileJavaPattern('(a$|b)\\n').test('a\n'), true);
  assert.equal(compileJavaPattern('(a$)|b').test('a\n'), false);
  assert.equal(compileJavaPattern('\\Aab\\z').test('ab'), true);
  assert.throws(() => compileJavaPattern('a++'), /possessive/);
  assert.throws(() => compileJavaPattern('(?>a)'), /atomic/);
  assert.throws(() => compileJavaPattern('[a-z&&[^b]]'), /intersection|nested/);
  assert.throws(() => compileJavaPattern('\\p{InGreek}'), SyntaxError);
});

// Differential check against java.util.regex itself, when a JDK is installed: every pattern of the model (and of
// the full AWS model when present) against a few hundred probe strings, Pattern.matcher(s).matches() vs RegExp.test.

const JAVA_MATCHER = `
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Pattern;

public class PatchlineMatch {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    Pattern p = null;
    for (String line; (line = in.readLine()) != null; ) {
      String text = new String(Base64.getDecoder().decode(line.substring(2)), StandardCharsets.UTF_8);
      if (line.charAt(0) == 'P') p = Pattern.compile(text);
      else out.println(p.matcher(text).matches() ? "1" : "0");
    }
    out.flush();
  }
}
`;

const javaAvailable = spawnSync('java', ['-version'], { encoding: 'utf8' }).status === 0;

test('translated patterns agree with java.util.regex', { skip: javaAvailable ? false : 'no java on PATH' }, () => {
  const patterns = new Set(patternsOf(model.shapes as Record<string, { pattern?: string }>));
  if (existsSync(referenceModelPath)) {
    for (const p of patternsOf((JSON.parse(readFileSync(referenceModelPath, 'utf8')) as { shapes: Record<string, { pattern?: string }> }).shapes)) patterns.add(p);
  }
  for (const p of ['a\\_b\\:c', '[\\w-\\/]+', 'x}y]z', '[]a]+', '(a)(b)\\2\\1', 'a$\\n', '(a$|b)\\n', '(x(a$))\\r?', '.+', '(?s).+', '\\s+\\S', '\\h\\v', '(?i)[a-c]+', '\\p{Punct}+', '\\p{IsLatin}+']) patterns.add(p);
  const seeds = [
    '', 'a', 'Z', '0', '_', '-', '.', ':', '/', ' ', '\t', '\n', '\r\n', '\u0085', '\u00a0', '\u2028', '\u3000', 'é', 'ß', 'ſ', '\u212a', '😀', '名前',
    'ключ', '٣', 'all', 'ALL', 'Patch', 'Custom:MyType', 'Custom:x', 'i-0123456789abcdef0', 'i-12345678', 'mi-0123456789abcdef0', 'a b', 'a!', 'x'.repeat(130),
    '2024-02-29T23:59:59Z', '2024-01-01', '2024-W05-3', 'https://x/y', 's3://b/k', 's3://b/', 'arn:aws:iam::123456789012:role/r', '123456789012', '1.0', '1.2.3',
    'AWS:Foo', 'resource-groups:Name', '$LATEST', '10%', '100%', '1440', 'ou-abcd-12345678', 'range', 'tag:Name', '/a/b', 'abba', 'x}y]z', ']a]', 'Ærø',
    '3f2504e0-4f89-41d3-9a0c-0305e82c3301', 'pb-0123456789abcdef0', 'aws:ec2', '   ', 'mw-0123456789abcdef0', 'oi-0123456789ab', 'a_b:c', 'a-/b',
  ];
  const probes = [...new Set([...seeds, ...seeds.map((x) => `${x}\n`), ...seeds.map((x) => ` ${x}`), ...seeds.map((x) => x + x)])];
  const b64 = (x: string): string => Buffer.from(x, 'utf8').toString('base64');
  const list = [...patterns];
  const input = list.flatMap((p) => [`P ${b64(p)}`, ...probes.map((x) => `S ${b64(x)}`)]).join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'patchline-regex-'));
  try {
    writeFileSync(join(dir, 'PatchlineMatch.java'), JAVA_MATCHER);
    const run = spawnSync('java', [join(dir, 'PatchlineMatch.java')], { input: `${input}\n`, encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(run.status, 0, run.stderr);
    const answers = run.stdout.split('\n');
    let k = 0;
    const mismatches: string[] = [];
    for (const p of list) {
      const re = compileJavaPattern(p);
      for (const x of probes) {
        const java = answers[k++] === '1';
        if (re.test(x) !== java) mismatches.push(`${p} on ${JSON.stringify(x)}: java ${java}`);
      }
    }
    assert.deepEqual(mismatches.slice(0, 20), []);
    console.log(`java.util.regex agreement: ${list.length} patterns × ${probes.length} strings`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// A synthetic model: recursion, maps of structures, and injection through the `model` parameter.

test('custom model: recursive shapes and maps of structures', () => {
  const custom = {
    metadata: { targetPrefix: 'Test' },
    allOperations: ['Put'],
    operations: { Put: { input: 'Node', errors: [] } },
    shapes: {
      Node: { type: 'structure', required: ['Name'], members: { Name: { shape: 'Name' }, Children: { shape: 'NodeList' }, Attrs: { shape: 'AttrMap' } } },
      NodeList: { type: 'list', member: { shape: 'Node' }, max: 2 },
      AttrMap: { type: 'map', key: { shape: 'Name' }, value: { shape: 'Node' } },
      Name: { type: 'string', min: 1, max: 5 },
    },
  } as unknown as GeneratedModel;
  const v = createRequestValidator(custom);
  assert.deepEqual(v.validate('Put', { Name: 'a', Children: [{ Name: 'b', Children: [{ Name: 'c' }] }] }), { ok: true });
  // Clauses follow the member order of the model (the generated model lists members alphabetically).
  assert.equal(
    validation(v.validate('Put', { Name: 'a', Children: [{ Name: 'b', Children: [{}] }], Attrs: { k: { Name: 'toolong' } } })),
    '2 validation errors detected: ' +
      "Value null at 'children.1.member.children.1.member.name' failed to satisfy constraint: Member must not be null; " +
      "Value 'toolong' at 'attrs.k.name' failed to satisfy constraint: Member must have length less than or equal to 5",
  );
  assert.equal(
    validation(v.validate('Put', { Name: 'a', Children: [{ Name: 'b' }, { Name: 'c' }, { Name: 'd' }] })),
    "1 validation error detected: Value '[{Name=b}, {Name=c}, {Name=d}]' at 'children' failed to satisfy constraint: Member must have length less than or equal to 2",
  );
  assert.equal(serialization(v.validate('Put', { Name: 'a', Attrs: { 'x.y': { Name: 1 } } })), 'Expected String for \'Attrs["x.y"].Name\' but got Number');
});

// ---------------------------------------------------------------------------------------------------------------
// Throughput

test('throughput: small requests', () => {
  const bodies: Array<[string, unknown]> = [
    ['GetPatchBaseline', { BaselineId: 'pb-0123456789abcdef0' }],
    ['DescribePatchBaselines', { MaxResults: 50, Filters: [{ Key: 'OWNER', Values: ['Self'] }] }],
    ['DescribeInstancePatches', { InstanceId: 'i-0123456789abcdef0', MaxResults: 20 }],
  ];
  for (const [op, body] of bodies) assert.deepEqual(validator.validate(op, body), { ok: true }, op);

  const measure = (op: string, body: unknown): number => {
    for (let i = 0; i < 20_000; i++) validator.validate(op, body); // warm-up
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < 300_000_000n) {
      for (let i = 0; i < 10_000; i++) validator.validate(op, body);
      n += 10_000;
      elapsed = process.hrtime.bigint() - start;
    }
    return Math.round(n / (Number(elapsed) / 1e9));
  };
  const rates = bodies.map(([op, body]) => [op, measure(op, body)] as const);
  const create = {
    Name: 'prod-baseline',
    OperatingSystem: 'WINDOWS',
    ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['SecurityUpdates', 'CriticalUpdates'] }] }, ApproveAfterDays: 7 }] },
    Tags: [{ Key: 'env', Value: 'prod' }],
  };
  const createRate = measure('CreatePatchBaseline', create);
  for (const [op, rate] of rates) console.log(`validate ${op}: ${rate.toLocaleString('en-US')} validations/s`);
  console.log(`validate CreatePatchBaseline (nested rules + tags): ${createRate.toLocaleString('en-US')} validations/s`);
  // Generous floor so a loaded CI machine does not fail; the figure itself is what matters.
  for (const [op, rate] of rates) assert.ok(rate > 100_000, `${op}: ${rate}/s`);
});
