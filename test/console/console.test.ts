// The web console in a real browser (Debian's Chromium through playwright-core) against a real server holding a
// seeded fleet. One walk-through, as a new user would take it: sign in with the server's key, read the dashboard
// (its numbers must be the API's), follow "nodes that miss critical patches", search and filter the node table,
// open a node and read why each missing patch is required (baseline, rule), export the list as CSV and check its
// rows; then create a baseline, see the API's errors next to the fields they name, fix it, register it to a patch
// group, reload (the session survives, the secret is nowhere), sign out. Screenshots go to test-artifacts/console/.
// SQLite only: the console does not depend on the store engine, and the browser run must stay short.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateActivationCommand, CreatePatchBaselineCommand, GetPatchBaselineForPatchGroupCommand, PutInventoryCommand,
  RegisterPatchBaselineForPatchGroupCommand, type SSMClient,
} from '@aws-sdk/client-ssm';
import { startTestServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';
import { callPatchline, instanceInformation, nodeId, patchEntry, patchReport, stateCounters, type PatchEntry } from '../helpers/fleet.ts';
import { snapshotGroupHistory } from '../../src/services/history.ts';
import { artifactsDir, browserSkip, buildConsole, launch, parseCsv, signIn, type BrowserSession } from './browser.ts';

const NODES = 24;

/** The seeded node `i`: group, patch rows (with the baseline's rule 1 making Critical security patches CRITICAL). */
function seededNode(i: number): { id: string; group: string; name: string; patches: PatchEntry[] } {
  const patches: PatchEntry[] = [
    patchEntry('bash.x86_64', 'Installed', { Title: 'bash.x86_64:0:5.2.15-1.amzn2023', Classification: 'Bugfix', Severity: 'Low' }),
    patchEntry('zlib.x86_64', 'Installed', { Title: 'zlib.x86_64:0:1.2.11-33.amzn2023', Classification: 'Security', Severity: 'Medium' }),
    patchEntry('sudo.x86_64', 'Installed', { Title: 'sudo.x86_64:0:1.9.15-1.amzn2023', Classification: 'Security', Severity: 'Important' }),
  ];
  if (i % 4 === 1) patches.push(patchEntry('openssl.x86_64', 'Missing', { Title: 'openssl.x86_64:1:3.0.8-1.amzn2023.0.12', Classification: 'Security', Severity: 'Critical', CVEIds: 'CVE-2024-0727,CVE-2023-5678' }));
  if (i % 3 === 1) patches.push(patchEntry('curl.x86_64', 'Missing', { Title: 'curl.x86_64:0:8.5.0-1.amzn2023', Classification: 'Security', Severity: 'Important', CVEIds: 'CVE-2023-46218' }));
  if (i % 5 === 2) patches.push(patchEntry('tzdata.noarch', 'Missing', { Title: 'tzdata.noarch:0:2024a-1.amzn2023', Classification: 'Bugfix', Severity: 'Low' }));
  if (i === 7) patches.push(patchEntry('kernel.x86_64', 'Failed', { Title: 'kernel.x86_64:0:6.1.79-99.167.amzn2023', Classification: 'Security', Severity: 'Critical', CVEIds: 'CVE-2024-26581' }));
  if (i === 9) patches.push(patchEntry('glibc.x86_64', 'InstalledPendingReboot', { Title: 'glibc.x86_64:0:2.34-52.amzn2023', Classification: 'Security', Severity: 'Important', InstalledTime: '2026-02-28T10:00:00Z' }));
  const group = i % 3 === 0 ? 'db' : 'web';
  return { id: nodeId(i, 'con'), group, name: `${group}-${String(i).padStart(2, '0')}`, patches };
}

const criticalCount = (patches: PatchEntry[]) => patches.filter((p) => (p.State === 'Missing' || p.State === 'Failed') && p.Severity === 'Critical').length;

describe('web console (Chromium)', { skip: browserSkip() }, () => {
  let server: TestServer;
  let ssm: SSMClient;
  let b: BrowserSession;
  let baselineId: string;
  const nodes = Array.from({ length: NODES }, (_, i) => seededNode(i));
  const critical = nodes.filter((n) => criticalCount(n.patches) > 0);
  const api = (op: string, body: object) => callPatchline(server.endpoint, TEST_ADMIN, op, body);
  /** Waits until a table (by test id) has `n` body rows, each containing `text` when given. */
  const waitRows = (testid: string, n: number, text = '') =>
    b.page.waitForFunction(([id, count, t]) => {
      const rows = [...(globalThis as any).document.querySelectorAll(`[data-testid=${id}] tbody tr`)] as Array<{ textContent: string }>;
      return rows.length === count && rows.every((r) => r.textContent.includes(t));
    }, [testid, n, text] as const);
  let shots = 0;
  const shot = async (name: string) => {
    shots++;
    await b.page.screenshot({ path: join(artifactsDir(), `${String(shots).padStart(2, '0')}-${name}.png`), fullPage: true });
  };

  before(async () => {
    rmSync(artifactsDir(), { recursive: true, force: true });
    buildConsole();
    server = await startTestServer({ engine: 'sqlite' });
    ssm = server.client();
    const created = await ssm.send(new CreatePatchBaselineCommand({
      Name: 'web-critical-first',
      OperatingSystem: 'AMAZON_LINUX_2023',
      Description: 'Critical security fixes after a week, important ones after two',
      ApprovalRules: {
        PatchRules: [
          { PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }, { Key: 'SEVERITY', Values: ['Critical'] }] }, ApproveAfterDays: 7, ComplianceLevel: 'CRITICAL' },
          { PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }, { Key: 'SEVERITY', Values: ['Important', 'Medium'] }] }, ApproveAfterDays: 14, ComplianceLevel: 'HIGH' },
          { PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Bugfix'] }] }, ApproveAfterDays: 30, ComplianceLevel: 'LOW' },
        ],
      },
    }));
    baselineId = created.BaselineId!;
    await ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId: baselineId, PatchGroup: 'web' }));
    const now = Date.now();
    for (const [i, n] of nodes.entries()) {
      const counters = { ...stateCounters(n.patches), CriticalNonCompliantCount: criticalCount(n.patches) };
      const end = new Date(now - (i + 1) * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const start = new Date(now - (i + 6) * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      await ssm.send(new PutInventoryCommand(patchReport(n.id, { patchGroup: n.group, baselineId, counters, start, end, rebootOption: 'NoReboot' }, n.patches, instanceInformation({
        ComputerName: `${n.name}.example.internal`, IpAddress: `10.0.0.${i + 10}`, PlatformName: 'Amazon Linux', PlatformType: 'Linux', PlatformVersion: '2023', AgentType: 'amazon-ssm-agent', AgentVersion: '3.3.0', InstanceId: n.id, ResourceType: 'ManagedInstance',
      }))));
    }
    // Two registered nodes that never report.
    const activation = await ssm.send(new CreateActivationCommand({ IamRole: 'patchline-node', RegistrationLimit: 2 }));
    const key = { accessKeyId: activation.ActivationId!, secretAccessKey: activation.ActivationCode! };
    for (const name of ['fresh-1', 'fresh-2']) await callPatchline(server.endpoint, key, 'RegisterManagedInstance', { ComputerName: name, PlatformType: 'Linux' });
    await snapshotGroupHistory(server.app, now - 3_600_000);
    await snapshotGroupHistory(server.app, now);
    b = await launch();
  });

  after(async () => {
    await b?.close();
    await server?.close();
  });

  test('a new user finds the nodes that miss critical patches, why, and exports the list', async () => {
    const { page } = b;
    // Sign in with the key the server printed.
    await page.goto(`${server.endpoint}/`);
    await page.getByRole('heading', { name: 'Sign in to Patchline' }).waitFor();
    await shot('sign-in');
    await signIn(page, server.endpoint, TEST_ADMIN);
    assert.equal(await page.evaluate('localStorage.length + sessionStorage.length'), 0, 'nothing in web storage');
    assert.equal(await page.evaluate('document.cookie'), '', 'the session cookie is HttpOnly');
    assert.equal(await page.locator('input[type=password]').count(), 0, 'the secret field is gone');

    // The dashboard shows the API's numbers.
    const summary = await api('GetFleetSummary', { StaleDays: 7, Top: 10 });
    await page.getByTestId('stat-nodes').waitFor();
    const stat = async (id: string) => Number((await page.getByTestId(id).textContent())!.replace(/,/g, ''));
    assert.equal(await stat('stat-nodes'), summary.Nodes);
    assert.equal(summary.Nodes, NODES + 2);
    assert.equal(await stat('stat-compliant'), summary.Compliant);
    assert.equal(await stat('stat-noncompliant'), summary.NonCompliant);
    assert.equal(await stat('stat-neverreported'), summary.NeverReported);
    assert.equal(summary.NeverReported, 2);
    assert.equal(await stat('stat-stale'), summary.Stale);
    assert.equal(await stat('level-critical'), summary.NonCompliantByLevel.Critical);
    assert.equal(summary.NonCompliantByLevel.Critical, critical.length);
    assert.equal(await stat('level-security'), summary.NonCompliantByLevel.Security);
    assert.equal(await stat('level-other'), summary.NonCompliantByLevel.Other);
    const groupRows = await page.getByTestId('group-table').locator('tbody tr').allTextContents();
    for (const g of summary.PatchGroups.filter((x: { PatchGroup: string }) => x.PatchGroup !== '')) {
      assert.ok(groupRows.some((r) => r.startsWith(g.PatchGroup) && r.includes(String(g.Instances))), `group ${g.PatchGroup} is listed with ${g.Instances} nodes`);
    }
    assert.ok(await page.getByRole('img', { name: /Nodes by compliance/ }).count() > 0, 'the donut is a named image');
    await shot('dashboard');
    // The dashboard's own tables export from the page (no list operation serves them).
    const [missingCsv] = await Promise.all([page.waitForEvent('download'), page.getByRole('region', { name: 'Most-missing patches' }).getByRole('link', { name: 'Export CSV' }).click()]);
    assert.deepEqual(parseCsv(readFileSync((await missingCsv.path())!, 'utf8')), [['KBId', 'Nodes'], ...summary.MostMissingPatches.map((p: { KBId: string; Nodes: number }) => [p.KBId, String(p.Nodes)])]);

    // "See which nodes, and why": the nodes that miss critical patches.
    await page.getByRole('link', { name: /See which nodes, and why/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Nodes missing critical patches' }).waitFor();
    assert.equal(await page.evaluate('document.activeElement?.id'), 'page-title', 'the new page heading has the focus');
    const table = page.getByTestId('nodes-table');
    await table.waitFor();
    const ids = async () => (await table.locator('tbody th a').allTextContents()).map((s) => s.trim());
    assert.deepEqual((await ids()).sort(), critical.map((n) => n.id).sort());
    assert.match((await page.getByTestId('node-count').textContent())!, new RegExp(`of ${critical.length} nodes`));
    await shot('nodes-critical');

    // Search (debounced, server-side) and a filter.
    const target = critical.find((n) => n.group === 'web')!;
    await page.getByLabel('Search').fill(target.name);
    await page.waitForFunction((id) => [...(globalThis as any).document.querySelectorAll('[data-testid=nodes-table] tbody th a')].map((a: { textContent: string }) => a.textContent).join() === id, target.id);
    assert.match(page.url(), new RegExp(`q=${target.name}`), 'the search is part of the URL');
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Patch group').selectOption('db');
    await waitRows('nodes-table', critical.filter((n) => n.group === 'db').length);
    assert.deepEqual((await ids()).sort(), critical.filter((n) => n.group === 'db').map((n) => n.id).sort());
    await page.getByLabel('Patch group').selectOption('');
    await waitRows('nodes-table', critical.length);

    // Export the list as CSV: every critical node, nothing else.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /Export CSV \(all matching nodes\)/ }).click()]);
    const csv = parseCsv(readFileSync((await download.path())!, 'utf8'));
    const header = csv[0]!;
    const col = header.indexOf('InstanceId');
    assert.ok(col >= 0, `InstanceId column in ${header.join(',')}`);
    const exported = csv.slice(1).filter((r) => r.length > 1).map((r) => r[col]);
    assert.deepEqual(exported.sort(), critical.map((n) => n.id).sort());
    const critCol = header.indexOf('CriticalNonCompliantCount');
    for (const r of csv.slice(1).filter((x) => x.length > 1)) assert.ok(Number(r[critCol]) > 0, 'every exported node has critical patches');

    // Open a node: why is its missing patch required? Baseline and rule, in words.
    await table.getByRole('link', { name: target.id }).click();
    await page.getByRole('heading', { level: 1, name: `Node ${target.id}` }).waitFor();
    const patches = page.getByTestId('patches-table');
    await patches.waitFor();
    const opensslRow = patches.locator('tbody tr', { hasText: 'openssl.x86_64' });
    await opensslRow.getByTestId('why').filter({ hasText: 'Approved by rule 1' }).waitFor();
    const why = (await opensslRow.getByTestId('why').textContent())!;
    assert.match(why, /Approved by rule 1: Security updates with severity Critical, after 7 days; reported as Critical/);
    assert.match((await page.getByTestId('node-baseline').textContent())!, /web-critical-first/);
    assert.match((await page.getByTestId('rule-1').textContent())!, /Rule 1: Security updates with severity Critical, after 7 days; reported as Critical when missing/);
    assert.equal(await page.getByTestId('node-critical').textContent(), String(criticalCount(target.patches)));
    await shot('node');

    // Patch filters: a CVE, then a severity.
    await page.getByLabel('CVE').selectOption('CVE-2024-0727');
    await waitRows('patches-table', 1);
    assert.match((await patches.locator('tbody tr').textContent())!, /openssl\.x86_64/);
    await page.getByLabel('CVE').selectOption('');
    await page.getByLabel('State').selectOption('Installed');
    await waitRows('patches-table', 3, 'Installed');
    await page.getByLabel('Severity').fill('Important');
    await page.getByLabel('Severity').press('Enter');
    await waitRows('patches-table', 1);
    assert.match((await patches.locator('tbody tr').textContent())!, /sudo\.x86_64/);
    assert.equal(b.problems.length, 0, b.problems.join('\n'));
  });

  test('create a baseline: the API errors appear next to their fields; then register it to a group and make it the default', async () => {
    const { page } = b;
    await page.goto(`${server.endpoint}/#/baselines/new`);
    await page.getByRole('heading', { level: 1, name: 'Create a baseline' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('db-strict');
    await page.getByLabel('Operating system').selectOption('AMAZON_LINUX_2023');
    const rule = page.getByTestId('rule-editor-1');
    await rule.getByLabel('Values (comma-separated; * for any)').nth(1).fill('Critical, Huge');
    await rule.getByLabel('Days after release').fill('500');
    await page.getByRole('button', { name: 'Create baseline' }).click();
    const summaryBox = page.getByTestId('error-summary');
    await summaryBox.waitFor();
    assert.match((await summaryBox.textContent())!, /ValidationException/);
    // Model validation (AWS wording and path) next to the days field.
    const daysError = page.locator('[data-field="rules.0.approveAfterDays"]');
    await daysError.waitFor();
    assert.match((await daysError.textContent())!, /Member must have value less than or equal to 360/);
    assert.equal(await page.locator('#f-rules-0-approveAfterDays').getAttribute('aria-invalid'), 'true');
    await shot('baseline-error-days');
    // Fix the days; Patchline's own check then names the bad filter value, shown under that filter.
    await rule.getByLabel('Days after release').fill('3');
    await page.getByRole('button', { name: 'Create baseline' }).click();
    const valueError = page.locator('[data-field="rules.0.filters.1.values"]');
    await valueError.filter({ hasText: 'Huge' }).waitFor();
    assert.match((await valueError.textContent())!, /Invalid Filter Value: Huge for Key: SEVERITY/);
    assert.equal(await page.locator('#f-rules-0-filters-1-values').getAttribute('aria-invalid'), 'true');
    await shot('baseline-error-filter');
    // The summary links to the field.
    await summaryBox.getByRole('link', { name: /Rule 1, filter 2 values/ }).click();
    assert.equal(await page.evaluate('document.activeElement?.id'), 'f-rules-0-filters-1-values');

    await rule.getByLabel('Values (comma-separated; * for any)').nth(1).fill('Critical, Important');
    await page.getByRole('button', { name: 'Create baseline' }).click();
    await page.getByRole('heading', { level: 1, name: 'db-strict' }).waitFor();
    assert.match((await page.getByTestId('rule-1').textContent())!, /Security updates with severity Critical or Important, after 3 days/);
    const newId = /#\/baselines\/(pb-[0-9a-f]+)/.exec(page.url())![1]!;

    await page.getByLabel('Register to patch group').fill('db');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByTestId('baseline-groups').getByRole('link', { name: 'db' }).waitFor();
    const registered = await ssm.send(new GetPatchBaselineForPatchGroupCommand({ PatchGroup: 'db', OperatingSystem: 'AMAZON_LINUX_2023' }));
    assert.equal(registered.BaselineId, newId);

    await page.getByRole('button', { name: /Set as default for Amazon Linux 2023/ }).click();
    await page.getByText('This is the default baseline for Amazon Linux 2023').waitFor();
    await shot('baseline');

    // An AWS-provided baseline is read-only.
    await page.goto(`${server.endpoint}/#/baselines?owner=AWS`);
    await page.getByTestId('baselines-table').waitFor();
    await page.getByTestId('baselines-table').locator('tbody th a').first().click();
    await page.getByRole('link', { name: 'Copy to a new baseline' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Edit' }).count(), 0);
    assert.equal(b.problems.length, 0, b.problems.join('\n'));
  });

  test('patch group, CVE and add-nodes pages; reload keeps the session; sign-out ends it', async () => {
    const { page } = b;
    await page.goto(`${server.endpoint}/#/groups/web`);
    await page.getByTestId('group-instances').waitFor();
    const state = await ssm.send(new (await import('@aws-sdk/client-ssm')).DescribePatchGroupStateCommand({ PatchGroup: 'web' }));
    assert.equal(await page.getByTestId('group-instances').textContent(), String(state.Instances));
    await page.getByTestId('group-nodes').waitFor();
    assert.equal(await page.getByRole('img', { name: /Nodes of web over time/ }).count(), 1, 'the history line chart is drawn');
    await shot('group');

    await page.goto(`${server.endpoint}/#/cves`);
    await page.getByLabel('CVE id').fill('cve-2024-0727');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('cve-nodes').waitFor();
    const cveNodes = (await page.getByTestId('cve-nodes').locator('tbody th a').allTextContents()).sort();
    assert.deepEqual(cveNodes, nodes.filter((n) => n.patches.some((p) => p.CVEIds?.includes('CVE-2024-0727'))).map((n) => n.id).sort());
    assert.match((await page.getByTestId('cve-fixes').textContent())!, /openssl\.x86_64/);
    await shot('cve');

    await page.goto(`${server.endpoint}/#/add-nodes`);
    await page.getByRole('button', { name: 'Create activation' }).click();
    const command = await page.getByTestId('install-command').textContent();
    assert.match(command!, /patchline-agent\.js register .*--activation-id\W+[0-9a-f-]{36}/s);
    await shot('add-nodes');

    // A reload loses the page's memory (CSRF token) but not the session.
    await page.goto(`${server.endpoint}/#/nodes`);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Nodes' }).waitFor();
    await page.getByTestId('nodes-table').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Patchline' }).waitFor();
    const after = await page.evaluate(async () => (await fetch('/console/api', { method: 'POST', headers: { 'X-Amz-Target': 'Patchline.GetFleetSummary', 'Content-Type': 'application/x-amz-json-1.1' }, body: '{}' })).status);
    assert.equal(after, 401, 'the session is over');
    assert.equal(b.problems.length, 0, b.problems.join('\n'));
  });
});
