// The console's browser-side logic that needs no browser: the SigV4 signer (WebCrypto and the pure-JS SHA-256
// fallback, against the AWS SDK's own signer), baselines in plain words and "why is this patch required",
// and the mapping of the API's validation messages to form fields. Also type-checks console/ (its own tsconfig:
// DOM, preact JSX), which the root type check does not cover.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { hmacJs, sha256Js, signRequest } from '../../console/src/sigv4.ts';
import { describeRule, explainPatch, type Baseline } from '../../console/src/rules.ts';
import { fieldErrors, splitClauses } from '../../console/src/validation.ts';
import { verifySigV4 } from '../../src/server/sigv4.ts';
import { NodeSha256 } from '../helpers/raw-request.ts';

const ROOT = new URL('../..', import.meta.url).pathname;


test('console/ type-checks (tsc -p console/tsconfig.json)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(ROOT, 'console/tsconfig.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('sha256Js and hmacJs equal node:crypto on every length around the block edges', () => {
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000]) {
    const data = randomBytes(n);
    assert.equal(Buffer.from(sha256Js(data)).toString('hex'), createHash('sha256').update(data).digest('hex'), `sha256 of ${n} bytes`);
    const key = randomBytes(n % 100);
    assert.equal(Buffer.from(hmacJs(key, data)).toString('hex'), createHmac('sha256', key).update(data).digest('hex'), `hmac with a ${key.length}-byte key`);
  }
  const longKey = randomBytes(200);
  assert.equal(Buffer.from(hmacJs(longKey, Buffer.from('x'))).toString('hex'), createHmac('sha256', longKey).update('x').digest('hex'));
});

test('signRequest produces the AWS SDK signer\'s Authorization header, with WebCrypto and without', async () => {
  const now = new Date('2026-03-01T12:34:56Z');
  const credentials = { accessKeyId: 'AKPLTESTADMIN0000001', secretAccessKey: 'test-admin-secret-key-0123456789abcdef0' };
  const sdk = new SignatureV4({ credentials, region: 'eu-west-1', service: 'ssm', sha256: NodeSha256 as never, applyChecksum: false });
  const request = {
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 8080,
    path: '/',
    query: {},
    headers: { host: '127.0.0.1:8080', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Patchline.CreateConsoleSession' },
    body: '{}',
  };
  const signed = (await sdk.sign(request as never, { signingDate: now })) as unknown as { headers: Record<string, string> };
  const expected = signed.headers.authorization ?? signed.headers.Authorization;
  const input = { ...credentials, region: 'eu-west-1', service: 'ssm', host: '127.0.0.1:8080', target: 'Patchline.CreateConsoleSession', body: '{}', now };
  const ours = await signRequest(input);
  assert.equal(ours.Authorization, expected);
  assert.equal(ours['X-Amz-Date'], '20260301T123456Z');
  // And the server's own verifier accepts it.
  const rawHeaders = ['Host', '127.0.0.1:8080', ...Object.entries(ours).flat()];
  const identity = await verifySigV4({ method: 'POST', url: '/', rawHeaders, body: Buffer.from('{}') }, (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined), now.getTime());
  assert.equal(identity.region, 'eu-west-1');
  // Without crypto.subtle (a plain-HTTP page on another host) the fallback gives the same signature.
  const subtle = Object.getOwnPropertyDescriptor(globalThis.crypto, 'subtle');
  Object.defineProperty(globalThis.crypto, 'subtle', { value: undefined, configurable: true });
  try {
    assert.equal((await signRequest(input)).Authorization, expected);
  } finally {
    if (subtle) Object.defineProperty(globalThis.crypto, 'subtle', subtle);
    else delete (globalThis.crypto as unknown as Record<string, unknown>).subtle;
  }
});

const baseline: Baseline = {
  BaselineId: 'pb-0123456789abcdef0',
  Name: 'web',
  OperatingSystem: 'AMAZON_LINUX_2023',
  GlobalFilters: { PatchFilters: [{ Key: 'PRODUCT', Values: ['AmazonLinux2023'] }] },
  ApprovalRules: {
    PatchRules: [
      { PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }, { Key: 'SEVERITY', Values: ['Critical', 'Important'] }] }, ApproveAfterDays: 7, ComplianceLevel: 'CRITICAL' },
      { PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Bug*'] }] }, ApproveUntilDate: '2026-01-31', ComplianceLevel: 'LOW', EnableNonSecurity: true },
      { PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['*'] }] }, ApproveAfterDays: 0 },
    ],
  },
  ApprovedPatches: ['kernel*'],
  ApprovedPatchesComplianceLevel: 'HIGH',
  RejectedPatches: ['telnet.x86_64'],
};

test('rules read as plain words', () => {
  const [r1, r2, r3] = baseline.ApprovalRules!.PatchRules;
  assert.equal(describeRule(r1!, 'AMAZON_LINUX_2023'), 'Security updates with severity Critical or Important, after 7 days; reported as Critical when missing');
  assert.equal(describeRule(r2!, 'AMAZON_LINUX_2023'), 'Bug* updates, released on or before 2026-01-31; reported as Low when missing; non-security updates from all repositories included');
  assert.equal(describeRule(r3!, 'AMAZON_LINUX_2023'), 'All updates, as soon as they are released');
  assert.equal(
    describeRule({ PatchFilterGroup: { PatchFilters: [{ Key: 'PRODUCT', Values: ['Debian12'] }, { Key: 'PRIORITY', Values: ['Required', 'Important'] }] } }, 'DEBIAN'),
    'All updates for Debian12, with priority Required or Important, as soon as they are available',
  );
  assert.equal(
    describeRule({ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['CriticalUpdates', 'SecurityUpdates'] }, { Key: 'MSRC_SEVERITY', Values: ['Critical'] }] }, ApproveAfterDays: 1 }, 'WINDOWS'),
    'CriticalUpdates or SecurityUpdates updates with MSRC severity Critical, after 1 day',
  );
});

test('why a patch is required: the first matching rule, the highest level, explicit and rejected lists', () => {
  const critical = explainPatch({ KBId: 'openssl.x86_64', Title: 'openssl.x86_64:1:3.0.8-1', Classification: 'Security', Severity: 'Critical', State: 'Missing' }, baseline);
  assert.equal(critical.kind, 'rule');
  assert.equal(critical.rule, 1);
  assert.deepEqual(critical.alsoRules, [3]);
  assert.equal(critical.complianceLevel, 'CRITICAL');
  assert.equal(critical.text, 'approved by rule 1: Security updates with severity Critical or Important, after 7 days; reported as Critical (rule 3 also matches)');
  assert.deepEqual(critical.unchecked, ['PRODUCT'], 'the product filter cannot be checked from a row');

  const bugfix = explainPatch({ KBId: 'tzdata.noarch', Title: 't', Classification: 'Bugfix', Severity: 'Low', State: 'Missing' }, baseline);
  assert.equal(bugfix.rule, 2);
  assert.equal(bugfix.complianceLevel, 'LOW');

  const explicit = explainPatch({ KBId: 'kernel.x86_64', Title: 'kernel.x86_64:0:6.1', Classification: 'Security', Severity: 'Critical', State: 'Missing' }, baseline);
  assert.equal(explicit.kind, 'explicit');
  assert.equal(explicit.complianceLevel, 'CRITICAL', 'the highest of the approved list level and the matching rules');

  assert.equal(explainPatch({ KBId: 'telnet.x86_64', Title: 'telnet', Classification: 'Security', Severity: 'Low', State: 'Missing' }, baseline).kind, 'rejected');

  const noRule = explainPatch({ KBId: 'a', Title: 'a', Classification: 'Security', Severity: 'Low', State: 'Missing' }, { ...baseline, ApprovalRules: { PatchRules: [baseline.ApprovalRules!.PatchRules[0]!] }, ApprovedPatches: [] });
  assert.equal(noRule.kind, 'none');

  const apt: Baseline = { BaselineId: 'pb-1', Name: 'd', OperatingSystem: 'DEBIAN', ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRIORITY', Values: ['Required'] }] } }] } };
  assert.equal(explainPatch({ KBId: 'libc6', Title: 'libc6', Classification: '', Severity: 'required', State: 'Missing' }, apt).rule, 1, 'apt rows carry the priority as Severity; case-insensitive');
});

const form = {
  global: [{ key: 'PRODUCT', values: 'AmazonLinux2023' }],
  rules: [
    { filters: [{ key: 'CLASSIFICATION', values: 'Security' }, { key: 'SEVERITY', values: 'Critical, Huge' }] },
    { filters: [{ key: 'CLASSIFICATION', values: 'Bugfix' }, { key: 'CLASSIFICATION', values: 'Security' }] },
  ],
};

test('validation messages land on the fields they name', () => {
  const aws = '2 validation errors detected: Value \'500\' at \'approvalRules.patchRules.1.member.approveAfterDays\' failed to satisfy constraint: Member must have value less than or equal to 360; Value \'[, ok]\' at \'globalFilters.patchFilters.1.member.values\' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 64, Member must have length greater than or equal to 1]';
  assert.deepEqual(fieldErrors(aws, form).map((e) => e.field), ['rules.0.approveAfterDays', 'global.0.values']);
  assert.deepEqual(fieldErrors("1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 3", form).map((e) => e.field), ['name']);
  assert.deepEqual(fieldErrors("1 validation error detected: Value 'SHINY' at 'approvalRules.patchRules.2.member.patchFilterGroup.patchFilters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [ARCH]", form).map((e) => e.field), ['rules.1.filters.0.key']);
  assert.deepEqual(fieldErrors("Value at 'sources.1.member.configuration' failed to satisfy constraint: Member must have length less than or equal to 1024", form).map((e) => e.field), ['sources']);

  const ours = 'Invalid Filter Value: Huge for Key: SEVERITY, valid values are: Critical, Important, Medium, Low, None; ApprovalRules.PatchRules[1]: your request must include a value for either ApproveAfterDays or ApproveUntilDate.; Duplicate filter key CLASSIFICATION in ApprovalRules.PatchRules[1]; give each key once with all its values.';
  assert.deepEqual(splitClauses(ours).length, 3, 'the "; give each key…" continuation stays with its clause');
  assert.deepEqual(fieldErrors(ours, form).map((e) => e.field), ['rules.0.filters.1.values', 'rules.1.approveAfterDays', 'rules.1.filters.1.key']);
  assert.deepEqual(fieldErrors('Invalid Filter Key: MSRC_SEVERITY for operating system AMAZON_LINUX_2023 in GlobalFilters, valid keys are: PRODUCT', { ...form, global: [{ key: 'MSRC_SEVERITY', values: 'x' }] }).map((e) => e.field), ['global.0.key']);
  assert.deepEqual(fieldErrors("ApprovalRules.PatchRules[0]: ApproveUntilDate '2026-02-30' must be a date in the format YYYY-MM-DD.", form).map((e) => e.field), ['rules.0.approveUntilDate']);
  assert.deepEqual(fieldErrors("Invalid entry 'openssl 3' in ApprovedPatches: entries may not contain white space", form).map((e) => e.field), ['approvedPatches']);
  assert.deepEqual(fieldErrors("Expected Integer for 'ApprovalRules.PatchRules[1].ApproveAfterDays' but got String", form).map((e) => e.field), ['rules.1.approveAfterDays']);
  assert.deepEqual(fieldErrors("Expected String for 'ApprovalRules.PatchRules[0].PatchFilterGroup.PatchFilters[1].Values[1]' but got Number", form).map((e) => e.field), ['rules.0.filters.1.values']);
  assert.deepEqual(fieldErrors('Something else entirely.', form).map((e) => e.field), ['']);
});
