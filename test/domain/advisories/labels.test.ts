// The labelling function (src/domain/advisories/labels.ts): which advisories apply to a candidate
// (installed < fixed ≤ candidate, distribution, architecture, binary or source name) and the labels they give it.
// Every expectation is computed by hand from the inputs written here.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  FixIndex, applyLabels, compareCveIds, hasAdvisoryData, labelCandidate, labelsOf, matchingAdvisories, nodeDistribution, advisoryFamilyOf,
  type CatalogueFix, type LabelAdvisory,
} from '../../../src/domain/advisories/labels.ts';
import type { ScanPackage } from '../../../src/domain/evaluation/types.ts';

const dsa = (id: string, cves: string[], more: Partial<LabelAdvisory> = {}): LabelAdvisory => ({ id, classification: 'Security', cveIds: cves, bugzillaIds: [], ...more });
const fix = (advisory: LabelAdvisory, name: string, fixedVersion: string, more: Partial<CatalogueFix> = {}): CatalogueFix => ({ advisory, name, fixedVersion, ...more });
const pkg = (name: string, version: string, more: Partial<ScanPackage> = {}): ScanPackage => ({ name, arch: 'amd64', version, ...more });

test('installed < fixed ≤ candidate: the boundaries, in dpkg order', () => {
  const a = dsa('DSA-9000-1', ['CVE-2099-1000']);
  const fixes = [fix(a, 'openssl', '3.0.20-1~deb12u1', { sourceName: 'openssl', distribution: 'debian:12' })];
  const scheme = 'dpkg';
  const at = (installed: string, candidate: string) => matchingAdvisories(scheme, fixes, pkg('openssl', candidate), pkg('openssl', installed), 'debian:12').length;
  assert.equal(at('3.0.19-1~deb12u2', '3.0.20-1~deb12u1'), 1, 'fixed = candidate: the candidate carries the fix');
  assert.equal(at('3.0.19-1~deb12u2', '3.0.22-1~deb12u2'), 1, 'fixed < candidate');
  assert.equal(at('3.0.20-1~deb12u1', '3.0.22-1~deb12u2'), 0, 'installed = fixed: already fixed');
  assert.equal(at('3.0.21-1', '3.0.22-1~deb12u2'), 0, 'installed > fixed');
  assert.equal(at('3.0.19-1~deb12u2', '3.0.20-1~deb11u1'), 0, '~deb11u1 sorts before ~deb12u1: candidate < fixed');
  assert.equal(at('3.0.20-1~deb12u0', '3.0.20-1'), 1, 'tilde: installed 3.0.20-1~deb12u0 < fixed, candidate 3.0.20-1 > fixed');
  // No installed version (not a case prepared Linux scans produce): only fixed ≤ candidate is tested.
  assert.equal(matchingAdvisories(scheme, fixes, pkg('openssl', '3.0.20-1~deb12u1'), undefined, 'debian:12').length, 1);
});

test('RPM EVR boundaries, epochs and architectures', () => {
  const alas = dsa('ALAS2-2018-942', ['CVE-2017-5715'], { severity: 'Important', issued: 1517958240 });
  const fixes = [
    fix(alas, 'qemu-kvm', '10:1.5.3-141.amzn2.5.3', { arch: 'x86_64', distribution: 'amzn:2' }),
    fix(alas, 'qemu-kvm-common', '10:1.5.3-141.amzn2.5.3', { arch: 'noarch', distribution: 'amzn:2' }),
  ];
  const installed = { name: 'qemu-kvm', arch: 'x86_64', version: '10:1.5.3-141.amzn2.5.2' };
  const cand = (version: string, arch = 'x86_64') => ({ name: 'qemu-kvm', arch, version });
  assert.equal(matchingAdvisories('rpm', fixes, cand('10:1.5.3-141.amzn2.5.3'), installed, 'amzn:2').length, 1);
  assert.equal(matchingAdvisories('rpm', fixes, cand('1.5.3-141.amzn2.5.3'), installed, 'amzn:2').length, 0, 'epoch 0 < epoch 10: the candidate is older than the fix');
  assert.equal(matchingAdvisories('rpm', fixes.slice(0, 1), cand('10:1.5.3-141.amzn2.5.3', 'aarch64'), { ...installed, arch: 'aarch64' }, 'amzn:2').length, 0, 'x86_64 fix, aarch64 candidate');
  const common = { name: 'qemu-kvm-common', arch: 'x86_64', version: '10:1.5.3-141.amzn2.5.3' };
  assert.equal(matchingAdvisories('rpm', fixes, common, { ...common, version: '10:1.5.3-141.amzn2' }, 'amzn:2').length, 1, 'a noarch fix matches any architecture');
});

test('distribution: equal when both are known; an unknown side matches', () => {
  const a = dsa('DSA-9001-1', ['CVE-2099-1001']);
  const b = dsa('DSA-9002-1', ['CVE-2099-1002']);
  const c = dsa('DSA-9003-1', ['CVE-2099-1003']);
  const fixes = [
    fix(a, 'expat', '2.5.0-1+deb12u2', { distribution: 'debian:12' }),
    fix(b, 'expat', '2.5.0-1+deb12u2', { distribution: 'debian:11' }),
    fix(c, 'expat', '2.5.0-1+deb12u2'),
  ];
  const ids = (dist: string | undefined) => matchingAdvisories('dpkg', fixes, pkg('expat', '2.5.0-1+deb12u5'), pkg('expat', '2.5.0-1+deb12u1'), dist).map((x) => x.id);
  assert.deepEqual(ids('debian:12'), ['DSA-9001-1', 'DSA-9003-1']);
  assert.deepEqual(ids('debian:11'), ['DSA-9002-1', 'DSA-9003-1']);
  assert.deepEqual(ids(undefined), ['DSA-9001-1', 'DSA-9002-1', 'DSA-9003-1']);
});

test('an introduced version: an installed version older than the fixed range is not affected by it', () => {
  const a = dsa('USN-9000-1', ['CVE-2099-2000']);
  const fixes = [fix(a, 'lib', '2.3-1', { introducedVersion: '2.0-1' })];
  assert.equal(matchingAdvisories('dpkg', fixes, pkg('lib', '2.4-1'), pkg('lib', '1.5-1'), undefined).length, 0);
  assert.equal(matchingAdvisories('dpkg', fixes, pkg('lib', '2.4-1'), pkg('lib', '2.0-1'), undefined).length, 1);
});

test('names: binary name, the fix named after the source package, and the source borrowed from the installed package', () => {
  const tracker = dsa('CVE-2099-3000', ['CVE-2099-3000']);
  const usn = dsa('USN-9100-1', ['CVE-2099-3001']);
  const index = new FixIndex('dpkg', [
    fix(tracker, 'openssl', '3.0.20-1', { sourceName: 'openssl', distribution: 'debian:12' }),
    fix(usn, 'libssl3', '3.0.20-1', { sourceName: 'openssl', distribution: 'debian:12' }),
  ]);
  const installed = pkg('libssl-dev', '3.0.19-1', { sourceName: 'openssl' });
  // apt's candidate list carries no source name: the installed package's is used.
  const candidate = pkg('libssl-dev', '3.0.22-1');
  assert.deepEqual(index.fixesFor(candidate, installed).map((f) => f.advisory.id).sort(), ['CVE-2099-3000', 'USN-9100-1']);
  const labelled = labelCandidate(index, candidate, installed, 'debian:12');
  assert.deepEqual(labelled?.cveIds, ['CVE-2099-3000', 'CVE-2099-3001']);
  assert.deepEqual(labelled?.advisoryIds, ['USN-9100-1'], 'a tracker record (its id is a CVE id) adds a CVE, not an advisory id');
  // A binary of another source with no fix of its own.
  assert.equal(labelCandidate(index, pkg('libfoo1', '2.0-1', { sourceName: 'foo' }), pkg('libfoo1', '1.0-1', { sourceName: 'foo' }), 'debian:12'), undefined);
  // dpkg: a binary with no source name is its own source (so the USN's libssl3 fix, of source openssl, is found too).
  assert.deepEqual(index.fixesFor(pkg('openssl', '3.0.22-1'), pkg('openssl', '3.0.19-1')).map((f) => f.name), ['openssl', 'libssl3']);
  // rpm: no source name, no source match.
  const rpm = new FixIndex('rpm', [fix(dsa('RLSA-2021:2575', []), 'openssl', '1:1.1.1k-5.el8')]);
  assert.equal(rpm.fixesFor({ name: 'openssl-libs', arch: 'x86_64', version: '1:1.1.1k-6.el8' }, { name: 'openssl-libs', arch: 'x86_64', version: '1:1.1.1k-4.el8' }).length, 0);
  assert.equal(rpm.fixesFor({ name: 'openssl-libs', arch: 'x86_64', version: '1:1.1.1k-6.el8', sourceName: 'openssl' }, undefined).length, 1);
});

test('labels: union of CVE ids (by year, then number), advisory and Bugzilla ids, highest severity, Security wins, earliest issue date', () => {
  const labels = labelsOf([
    dsa('DSA-9005-1', ['CVE-2024-10000', 'CVE-2023-5555'], { issued: 1_700_000_000 }),
    dsa('CVE-2024-9999', ['CVE-2024-9999'], { severity: 'High' }),
    dsa('DSA-9004-1', ['CVE-2023-5555'], { severity: 'Medium', issued: 1_600_000_000, bugzillaIds: ['1002', '999'] }),
  ]);
  assert.deepEqual(labels, {
    cveIds: ['CVE-2023-5555', 'CVE-2024-9999', 'CVE-2024-10000'],
    advisoryIds: ['DSA-9004-1', 'DSA-9005-1'],
    bugzillaIds: ['999', '1002'],
    classification: 'Security',
    severity: 'High',
    releaseTime: 1_600_000_000,
  });
  assert.equal(compareCveIds('CVE-2024-9999', 'CVE-2024-10000'), -1);
  // RPM notice types: Security beats everything; then Bugfix, Enhancement, …; Important ≡ High > Moderate ≡ Medium.
  const rpm = (classification: string, severity: string) => dsa(`X-${classification}`, [], { classification, severity });
  assert.equal(labelsOf([rpm('Enhancement', 'Low'), rpm('Bugfix', 'Moderate')]).classification, 'Bugfix');
  assert.equal(labelsOf([rpm('Enhancement', 'Low'), rpm('Security', 'Low'), rpm('Bugfix', 'Moderate')]).classification, 'Security');
  assert.equal(labelsOf([rpm('Security', 'Moderate'), rpm('Security', 'Important'), rpm('Security', 'Low')]).severity, 'Important');
  assert.equal(labelsOf([rpm('Security', 'Critical'), rpm('Security', 'Important')]).severity, 'Critical');
  assert.equal(labelsOf([rpm('Bugfix', 'None')]).severity, 'None');
});

test('applyLabels changes only the advisory fields; apt security-ness (the pocket) is left alone', () => {
  const candidate = pkg('curl', '7.88.1-10+deb12u15', { security: false, repository: 'bookworm', priority: 'optional' });
  const out = applyLabels(candidate, { cveIds: ['CVE-2099-0301'], advisoryIds: ['DSA-9300-1'], bugzillaIds: [], classification: 'Security', severity: 'Low', releaseTime: 1_760_000_000 });
  assert.deepEqual(out, {
    name: 'curl', arch: 'amd64', version: '7.88.1-10+deb12u15', security: false, repository: 'bookworm', priority: 'optional',
    classification: 'Security', cveIds: ['CVE-2099-0301'], advisoryIds: ['DSA-9300-1'], severity: 'Low', releaseTime: 1_760_000_000,
  });
  assert.notEqual(out, candidate);
  assert.equal(candidate.cveIds, undefined, 'the scan\'s object is not modified');
});

test('a candidate with advisory data of its own keeps it (no CVEs / classification / severity / advisory ids / release time → labelled)', () => {
  const a = dsa('ALAS2023-2023-001', ['CVE-2022-24903'], { severity: 'Important', issued: 1676666460 });
  const index = new FixIndex('rpm', [fix(a, 'rsyslog', '8.2204.0-3.amzn2023.0.2', { arch: 'x86_64', distribution: 'amzn:2023' })]);
  const installed = { name: 'rsyslog', arch: 'x86_64', version: '8.2204.0-1.amzn2023' };
  const bare = { name: 'rsyslog', arch: 'x86_64', version: '8.2204.0-3.amzn2023.0.2' };
  assert.equal(hasAdvisoryData(bare), false);
  assert.deepEqual(labelCandidate(index, bare, installed, 'amzn:2023'), {
    ...bare, classification: 'Security', severity: 'Important', releaseTime: 1676666460, cveIds: ['CVE-2022-24903'], advisoryIds: ['ALAS2023-2023-001'],
  });
  for (const own of [{ cveIds: ['CVE-2000-0001'] }, { classification: 'Bugfix' }, { severity: 'Low' }, { advisoryIds: ['ALAS2023-2023-999'] }, { releaseTime: 0 }]) {
    assert.equal(labelCandidate(index, { ...bare, ...own }, installed, 'amzn:2023'), undefined, JSON.stringify(own));
  }
  assert.equal(labelCandidate(index, bare, installed, 'amzn:2'), undefined, 'another distribution');
  assert.equal(labelCandidate(index, { ...bare, version: '8.2204.0-3.amzn2023.0.1' }, installed, 'amzn:2023'), undefined, 'candidate older than the fix');
});

test('node distribution keys from OS and product; package families per OS', () => {
  assert.equal(nodeDistribution('DEBIAN', 'Debian12'), 'debian:12');
  assert.equal(nodeDistribution('RASPBIAN', 'Raspbian11'), 'debian:11');
  assert.equal(nodeDistribution('UBUNTU', 'Ubuntu22.04'), 'ubuntu:22.04');
  assert.equal(nodeDistribution('AMAZON_LINUX_2023', 'AmazonLinux2023'), 'amzn:2023');
  assert.equal(nodeDistribution('AMAZON_LINUX_2', 'AmazonLinux2'), 'amzn:2');
  assert.equal(nodeDistribution('AMAZON_LINUX', 'AmazonLinux2018.03'), 'amzn:1');
  assert.equal(nodeDistribution('ROCKY_LINUX', 'RockyLinux8.5'), 'rocky:8');
  assert.equal(nodeDistribution('REDHAT_ENTERPRISE_LINUX', 'RedhatEnterpriseLinux9.4'), 'rhel:9');
  assert.equal(nodeDistribution('ALMA_LINUX', 'AlmaLinux9'), 'almalinux:9');
  assert.equal(nodeDistribution('WINDOWS', 'WindowsServer2022'), undefined);
  assert.equal(advisoryFamilyOf('DEBIAN'), 'dpkg');
  assert.equal(advisoryFamilyOf('UBUNTU'), 'dpkg');
  assert.equal(advisoryFamilyOf('SUSE'), 'rpm');
  assert.equal(advisoryFamilyOf('AMAZON_LINUX_2023'), 'rpm');
  assert.equal(advisoryFamilyOf('WINDOWS'), undefined);
  assert.equal(advisoryFamilyOf('MACOS'), undefined);
});
