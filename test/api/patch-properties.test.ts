// DescribePatchProperties through the real AWS SDK, on every store engine (reference: patch-manager-api.md §4):
// every operating system of the model answers for each property valid for it, other properties are refused,
// and the paginator returns each list whole and once.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribePatchPropertiesCommand, OperatingSystem as OperatingSystemEnum, PatchProperty as PatchPropertyEnum, paginateDescribePatchProperties,
  type DescribePatchPropertiesCommandInput, type OperatingSystem, type PatchProperty, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { rejectsWith } from '../helpers/assertions.ts';

/**
 * Valid properties per operating system, from the model's DescribePatchProperties documentation. The model does
 * not list AMAZON_LINUX_2022, ROCKY_LINUX, ALMA_LINUX (yum family, like the other Amazon Linux / RHEL clones) or
 * RASPBIAN (apt family, like Debian); they take their family's list.
 */
const YUM = ['PRODUCT', 'CLASSIFICATION', 'SEVERITY'];
const APT = ['PRODUCT', 'PRIORITY'];
const VALID: Record<string, string[]> = {
  AMAZON_LINUX: YUM, AMAZON_LINUX_2: YUM, AMAZON_LINUX_2022: YUM, AMAZON_LINUX_2023: YUM, CENTOS: YUM, ORACLE_LINUX: YUM,
  REDHAT_ENTERPRISE_LINUX: YUM, SUSE: YUM, ROCKY_LINUX: YUM, ALMA_LINUX: YUM,
  DEBIAN: APT, UBUNTU: APT, RASPBIAN: APT,
  MACOS: ['PRODUCT', 'CLASSIFICATION'],
  WINDOWS: ['PRODUCT', 'PRODUCT_FAMILY', 'CLASSIFICATION', 'MSRC_SEVERITY'],
};
const ALL_OPERATING_SYSTEMS = Object.values(OperatingSystemEnum) as OperatingSystem[];
const ALL_PROPERTIES = Object.values(PatchPropertyEnum) as PatchProperty[];

for (const { engine, skip } of engines()) {
  describe(`DescribePatchProperties (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    const names = async (input: DescribePatchPropertiesCommandInput) => {
      const out: string[] = [];
      for await (const page of paginateDescribePatchProperties({ client: ssm, pageSize: 50 }, input)) {
        for (const p of page.Properties ?? []) {
          assert.equal(typeof p.Name, 'string', JSON.stringify(p));
          out.push(p.Name!);
        }
      }
      return out;
    };

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
    });
    after(async () => {
      await server?.close();
    });

    test('the table covers every OperatingSystem of the model', () => {
      assert.equal(ALL_OPERATING_SYSTEMS.length, 15);
      assert.deepEqual([...ALL_OPERATING_SYSTEMS].sort(), Object.keys(VALID).sort());
    });

    test('every OperatingSystem × each of its valid properties answers', async () => {
      for (const os of ALL_OPERATING_SYSTEMS) {
        for (const property of VALID[os]!) {
          const values = await names({ OperatingSystem: os, Property: property as PatchProperty });
          assert.equal(new Set(values).size, values.length, `${os} ${property}: no duplicates`);
          if (property !== 'PRODUCT') assert.ok(values.length > 0, `${os} ${property} lists values`);
        }
      }
    });

    test('WINDOWS × PatchSet OS and APPLICATION answer for each property', async () => {
      const bySet: Record<string, Record<string, string[]>> = {};
      for (const PatchSet of ['OS', 'APPLICATION'] as const) {
        bySet[PatchSet] = {};
        for (const property of VALID.WINDOWS!) {
          bySet[PatchSet]![property] = await names({ OperatingSystem: 'WINDOWS', Property: property as PatchProperty, PatchSet });
        }
      }
      assert.ok(bySet.OS!.PRODUCT!.some((p) => /^WindowsServer/.test(p)), 'OS products are Windows Server releases');
      assert.ok(bySet.OS!.CLASSIFICATION!.includes('SecurityUpdates'));
      assert.ok(bySet.OS!.MSRC_SEVERITY!.includes('Critical'));
      assert.notDeepEqual(bySet.APPLICATION!.PRODUCT, bySet.OS!.PRODUCT, 'application products differ from OS products');
      assert.deepEqual(await names({ OperatingSystem: 'WINDOWS', Property: 'PRODUCT' }), bySet.OS!.PRODUCT, 'PatchSet defaults to OS');
    });

    test('DEBIAN PRIORITY is exactly Required, Important, Standard, Optional, Extra', async () => {
      const r = await ssm.send(new DescribePatchPropertiesCommand({ OperatingSystem: 'DEBIAN', Property: 'PRIORITY' }));
      assert.deepEqual(r.Properties, [{ Name: 'Required' }, { Name: 'Important' }, { Name: 'Standard' }, { Name: 'Optional' }, { Name: 'Extra' }]);
      assert.equal(r.NextToken, undefined);
    });

    test('a property not valid for the OS → ValidationException', async () => {
      let checked = 0;
      for (const os of ALL_OPERATING_SYSTEMS) {
        for (const property of ALL_PROPERTIES.filter((p) => !VALID[os]!.includes(p))) {
          await rejectsWith(ssm.send(new DescribePatchPropertiesCommand({ OperatingSystem: os, Property: property })), 'ValidationException', new RegExp(property));
          checked++;
        }
      }
      assert.ok(checked >= 30);
    });

    test('the paginator with MaxResults 2 returns the whole list once', async () => {
      for (const [os, property] of [['WINDOWS', 'CLASSIFICATION'], ['REDHAT_ENTERPRISE_LINUX', 'PRODUCT'], ['DEBIAN', 'PRIORITY']] as const) {
        const whole = await ssm.send(new DescribePatchPropertiesCommand({ OperatingSystem: os, Property: property, MaxResults: 50 }));
        assert.equal(whole.NextToken, undefined);
        const expected = whole.Properties!.map((p) => p.Name!);
        assert.ok(expected.length >= 5, `${os} ${property} has enough values to page`);
        const seen: string[] = [];
        let pages = 0;
        for await (const page of paginateDescribePatchProperties({ client: ssm, pageSize: 2 }, { OperatingSystem: os, Property: property })) {
          pages++;
          assert.ok(page.Properties!.length <= 2);
          seen.push(...page.Properties!.map((p) => p.Name!));
        }
        assert.deepEqual(seen, expected, 'same values, same order, none repeated');
        assert.equal(pages, Math.ceil(expected.length / 2));
      }
    });

    test('MaxResults outside 1–50 and a foreign NextToken are refused', async () => {
      await rejectsWith(ssm.send(new DescribePatchPropertiesCommand({ OperatingSystem: 'DEBIAN', Property: 'PRIORITY', MaxResults: 51 })), 'ValidationException', /maxResults/);
      await rejectsWith(ssm.send(new DescribePatchPropertiesCommand({ OperatingSystem: 'DEBIAN', Property: 'PRIORITY', MaxResults: 0 })), 'ValidationException', /maxResults/);
      const first = await ssm.send(new DescribePatchPropertiesCommand({ OperatingSystem: 'DEBIAN', Property: 'PRIORITY', MaxResults: 2 }));
      assert.equal(typeof first.NextToken, 'string');
      await rejectsWith(ssm.send(new DescribePatchPropertiesCommand({ OperatingSystem: 'UBUNTU', Property: 'PRIORITY', MaxResults: 2, NextToken: first.NextToken })), 'ValidationException');
      await rejectsWith(ssm.send(new DescribePatchPropertiesCommand({ OperatingSystem: 'DEBIAN', Property: 'PRIORITY', MaxResults: 2, NextToken: 'not-a-token' })), 'ValidationException');
    });
  });
}
