// Tests for the shared advisory helpers: date parsing, severity vocabularies, CVSS v3 scoring,
// distribution keys and RPM EVR handling.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  advisoryKey,
  commonDistribution,
  cvss3BaseScore,
  cvssRating,
  debianDistribution,
  debianUrgencyToSeverity,
  decodeChunks,
  distributionFromProductName,
  distributionKey,
  extractCveId,
  formatRpmEvr,
  normaliseRpmSeverity,
  parseAdvisoryDate,
  severityRank,
  sourceNameFromSrcRpm,
  splitRpmEvr,
  ubuntuPriorityToSeverity,
} from '../../../src/domain/advisories/advisory.ts';

const iso = (s: string): number => Date.parse(s) / 1000;

test('parseAdvisoryDate handles the feeds\' date forms as UTC', () => {
  assert.equal(parseAdvisoryDate('2023-01-10 18:20:00'), iso('2023-01-10T18:20:00Z'));
  assert.equal(parseAdvisoryDate('2018-02-07 18:49'), iso('2018-02-07T18:49:00Z'));
  assert.equal(parseAdvisoryDate('2019-07-30'), iso('2019-07-30T00:00:00Z'));
  assert.equal(parseAdvisoryDate('2024-09-03T14:33:38Z'), iso('2024-09-03T14:33:38Z'));
  assert.equal(parseAdvisoryDate('2024-09-03T14:33:38.123Z'), iso('2024-09-03T14:33:38Z'));
  assert.equal(parseAdvisoryDate('2024-09-03T16:33:38+02:00'), iso('2024-09-03T14:33:38Z'));
  assert.equal(parseAdvisoryDate('1588000000'), 1588000000);
  assert.equal(parseAdvisoryDate('1588000000123'), 1588000000);
  assert.equal(parseAdvisoryDate('01 Aug 2002'), iso('2002-08-01T00:00:00Z'));
  assert.equal(parseAdvisoryDate(' 2021-07-22 03:13:55 '), iso('2021-07-22T03:13:55Z'));
  for (const bad of [undefined, '', 'yesterday', '2023-02-31', '2023-13-01', '32 Jan 2020', '2023-01-01 25:00']) {
    assert.equal(parseAdvisoryDate(bad), undefined, String(bad));
  }
});

test('RPM severity is capitalised and defaults to None', () => {
  assert.equal(normaliseRpmSeverity('important'), 'Important');
  assert.equal(normaliseRpmSeverity('Important'), 'Important');
  assert.equal(normaliseRpmSeverity('MODERATE'), 'Moderate');
  assert.equal(normaliseRpmSeverity('None'), 'None');
  assert.equal(normaliseRpmSeverity(undefined), 'None');
  assert.equal(normaliseRpmSeverity('  '), 'None');
});

test('Debian urgency and Ubuntu priority map to one vocabulary', () => {
  assert.equal(debianUrgencyToSeverity('high**'), 'High');
  assert.equal(debianUrgencyToSeverity('low**'), 'Low');
  assert.equal(debianUrgencyToSeverity('medium'), 'Medium');
  assert.equal(debianUrgencyToSeverity('unimportant'), 'Negligible');
  assert.equal(debianUrgencyToSeverity('not yet assigned'), undefined);
  assert.equal(debianUrgencyToSeverity('end-of-life'), undefined);
  assert.equal(ubuntuPriorityToSeverity('medium'), 'Medium');
  assert.equal(ubuntuPriorityToSeverity('critical'), 'Critical');
  assert.equal(ubuntuPriorityToSeverity('negligible'), 'Negligible');
  assert.equal(ubuntuPriorityToSeverity('untriaged'), undefined);
  assert.ok(severityRank('Important') === severityRank('High'));
  assert.ok(severityRank('Moderate') === severityRank('Medium'));
  assert.ok(severityRank('Critical') > severityRank('High'));
  assert.ok(severityRank('Low') > severityRank('Negligible'));
  assert.equal(severityRank('whatever'), 0);
});

test('CVSS v3 base scores match the published scores', () => {
  // The two vectors of CVE-2024-6119 in USN-6986-1.
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N'), 7.5);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H'), 7.5);
  // From the Oracle descriptions in the AL2 fixture.
  assert.equal(cvss3BaseScore('CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:L'), 4.3);
  assert.equal(cvss3BaseScore('CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:C/C:N/I:H/A:N'), 6.1);
  assert.equal(cvss3BaseScore('CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:N'), 6.5);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 9.8);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H'), 10);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:N'), 0);
  assert.equal(cvss3BaseScore('CVSS:2.0/AV:N'), undefined);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L'), undefined);
  assert.equal(cvssRating(7.5), 'High');
  assert.equal(cvssRating(9.8), 'Critical');
  assert.equal(cvssRating(4.3), 'Medium');
  assert.equal(cvssRating(0.1), 'Low');
  assert.equal(cvssRating(0), 'None');
});

test('distribution keys follow os-release ID:VERSION_ID', () => {
  assert.equal(distributionKey('debian', '12'), 'debian:12');
  assert.equal(distributionKey('ubuntu', '22.04'), 'ubuntu:22.04');
  assert.equal(distributionKey('alpine', 'v3.18'), 'alpine:3.18');
  assert.equal(distributionKey('alpine', '3.18.4'), 'alpine:3.18');
  assert.equal(distributionKey('amzn', '2'), 'amzn:2');
  assert.equal(distributionKey('amzn', '2023'), 'amzn:2023');
  assert.equal(distributionKey('rocky', '8.8'), 'rocky:8');
  assert.equal(distributionKey('Debian', '3.0'), 'debian:3.0');
  assert.equal(debianDistribution('bookworm'), 'debian:12');
  assert.equal(debianDistribution('woody'), 'debian:3.0');
  assert.equal(debianDistribution('sid'), 'debian:sid');
  assert.equal(debianDistribution('unknownname'), 'debian:unknownname');
  assert.equal(distributionFromProductName('Rocky Linux 8'), 'rocky:8');
  assert.equal(distributionFromProductName('Amazon Linux 2'), 'amzn:2');
  assert.equal(distributionFromProductName('amazon-linux-2023'), 'amzn:2023');
  assert.equal(distributionFromProductName('Fedora 29'), 'fedora:29');
  assert.equal(distributionFromProductName('Foolishness'), undefined);
  assert.equal(commonDistribution([{ distribution: 'a' }, { distribution: 'a' }]), 'a');
  assert.equal(commonDistribution([{ distribution: 'a' }], [{ distribution: 'b' }]), undefined);
  assert.equal(commonDistribution([]), undefined);
});

test('RPM EVR and src rpm helpers', () => {
  assert.equal(formatRpmEvr('10', '1.5.3', '141.amzn2.5.3'), '10:1.5.3-141.amzn2.5.3');
  assert.equal(formatRpmEvr('0', '0.8.2', '7.el8_4'), '0.8.2-7.el8_4');
  assert.equal(formatRpmEvr(undefined, '1.0', undefined), '1.0');
  assert.deepEqual(splitRpmEvr('1:2.3-4.el8'), { epoch: '1', version: '2.3', release: '4.el8' });
  assert.deepEqual(splitRpmEvr('0.8-20.el9'), { version: '0.8', release: '20.el9' });
  assert.deepEqual(splitRpmEvr('1.0'), { version: '1.0' });
  assert.equal(sourceNameFromSrcRpm('firewalld-0.8.2-7.el8_4.src.rpm'), 'firewalld');
  assert.equal(
    sourceNameFromSrcRpm('rubygem-abrt-0.3.0-4.module+el8.5.0+738+032c9c02.src.rpm'),
    'rubygem-abrt',
  );
  assert.equal(sourceNameFromSrcRpm('https://the.url/the.package.rpm'), undefined);
  assert.equal(sourceNameFromSrcRpm(undefined), undefined);
});

test('CVE ids are recognised with vendor prefixes only', () => {
  assert.equal(extractCveId('CVE-2024-6119'), 'CVE-2024-6119');
  assert.equal(extractCveId('UBUNTU-CVE-2024-6119'), 'CVE-2024-6119');
  assert.equal(extractCveId('cve-2021-3520'), 'CVE-2021-3520');
  assert.equal(extractCveId('CVE-2999'), undefined);
  assert.equal(extractCveId('1111'), undefined);
  assert.equal(extractCveId('CVE-2023-XXXX'), undefined);
  assert.equal(advisoryKey({ source: 'osv', family: 'dpkg', id: 'USN-1-1' }), 'osv|dpkg|USN-1-1');
  assert.equal(
    advisoryKey({ source: 'debian-security-tracker', family: 'dpkg', id: 'CVE-1-1' }, 'sope'),
    'debian-security-tracker|dpkg|CVE-1-1|sope',
  );
});

test('decodeChunks joins UTF-8 split across chunks and drops a BOM', async () => {
  const bytes = Buffer.from('\uFEFFcafé ☃', 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) parts.push(bytes.subarray(i, i + 1));
  let out = '';
  for await (const s of decodeChunks(parts)) out += s;
  assert.equal(out, 'café ☃');
});
