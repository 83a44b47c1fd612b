// Patch baseline operations through the real AWS SDK over a real socket, on every store engine:
// CreatePatchBaseline, GetPatchBaseline, UpdatePatchBaseline, DeletePatchBaseline, DescribePatchBaselines,
// RegisterDefaultPatchBaseline, GetDefaultPatchBaseline (reference: patch-manager-api.md §1).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { firstExisting } from '../helpers/reference.ts';
import {
  CreatePatchBaselineCommand, DeletePatchBaselineCommand, DeregisterPatchBaselineForPatchGroupCommand, DescribePatchBaselinesCommand,
  GetDefaultPatchBaselineCommand, GetPatchBaselineCommand, RegisterDefaultPatchBaselineCommand, RegisterPatchBaselineForPatchGroupCommand,
  UpdatePatchBaselineCommand, paginateDescribePatchBaselines,
  type CreatePatchBaselineCommandInput, type PatchBaselineIdentity, type PatchOrchestratorFilter, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { rejectsWith } from '../helpers/assertions.ts';

// AWS's default-baseline ARNs from ../shared/reference when it is there, else the copy the project derived from it and
// committed (test/generated/model-check.test.ts checks the copy against the reference wherever both exist).
const REFERENCE_ARNS = JSON.parse(readFileSync(firstExisting('../../../shared/reference/default-baselines.json', '../../src/generated/default-baseline-arns.json'), 'utf8')) as Record<string, Record<string, string>>;

/** Operating systems that have an AWS-provided default baseline (all values of the model's enum). */
const OPERATING_SYSTEMS = [
  'WINDOWS', 'AMAZON_LINUX', 'AMAZON_LINUX_2', 'AMAZON_LINUX_2022', 'AMAZON_LINUX_2023', 'UBUNTU', 'REDHAT_ENTERPRISE_LINUX', 'SUSE',
  'CENTOS', 'ORACLE_LINUX', 'DEBIAN', 'MACOS', 'RASPBIAN', 'ROCKY_LINUX', 'ALMA_LINUX',
];

/** A pattern-valid baseline id that no server ever issued. */
const UNKNOWN_ID = 'pb-0123456789abcdef0';

function withoutMetadata<T extends { $metadata: unknown }>(output: T): Omit<T, '$metadata'> {
  const { $metadata: _m, ...rest } = output;
  return rest;
}

const AL2_RULE = (days = 7) => ({
  PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION' as const, Values: ['Security', 'Bugfix'] }, { Key: 'SEVERITY' as const, Values: ['Critical'] }] },
  ApproveAfterDays: days,
});

for (const { engine, skip } of engines()) {
  describe(`patch baselines (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;

    const create = async (input: Partial<CreatePatchBaselineCommandInput> & { Name: string }) =>
      (await ssm.send(new CreatePatchBaselineCommand(input))).BaselineId!;
    const get = (id: string) => ssm.send(new GetPatchBaselineCommand({ BaselineId: id }));
    const describeAll = async (filters: PatchOrchestratorFilter[] = []) => {
      const out: PatchBaselineIdentity[] = [];
      for await (const page of paginateDescribePatchBaselines({ client: ssm, pageSize: 100 }, { Filters: filters })) out.push(...(page.BaselineIdentities ?? []));
      return out;
    };
    const ownIds = async () => (await describeAll([{ Key: 'OWNER', Values: ['Self'] }])).map((b) => b.BaselineId!).sort();
    const awsDefault = (os: string) => REFERENCE_ARNS[server.config.region]![os]!;

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
    });
    after(async () => {
      await server?.close();
    });

    describe('CreatePatchBaseline and GetPatchBaseline', () => {
      test('every default is materialised on read', async () => {
        const t0 = Date.now();
        const id = await create({ Name: 'defaults-al2', OperatingSystem: 'AMAZON_LINUX_2', ApprovalRules: { PatchRules: [AL2_RULE(7)] } });
        const t1 = Date.now();
        assert.match(id, /^pb-[0-9a-f]{17}$/);
        const { $metadata, CreatedDate, ModifiedDate, ...rest } = await get(id);
        assert.equal($metadata.httpStatusCode, 200);
        assert.deepEqual(rest, {
          BaselineId: id,
          Name: 'defaults-al2',
          OperatingSystem: 'AMAZON_LINUX_2',
          GlobalFilters: { PatchFilters: [] },
          ApprovalRules: {
            PatchRules: [{
              PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security', 'Bugfix'] }, { Key: 'SEVERITY', Values: ['Critical'] }] },
              ComplianceLevel: 'UNSPECIFIED',
              ApproveAfterDays: 7,
              EnableNonSecurity: false,
            }],
          },
          ApprovedPatches: [],
          ApprovedPatchesComplianceLevel: 'UNSPECIFIED',
          ApprovedPatchesEnableNonSecurity: false,
          RejectedPatches: [],
          RejectedPatchesAction: 'ALLOW_AS_DEPENDENCY',
          Sources: [],
          PatchGroups: [],
        });
        assert.ok(CreatedDate instanceof Date && ModifiedDate instanceof Date, 'timestamps arrive as epoch numbers the SDK turns into Dates');
        assert.ok(CreatedDate.getTime() >= t0 - 1000 && CreatedDate.getTime() <= t1 + 1000, `CreatedDate ${CreatedDate.toISOString()} is now`);
        assert.equal(ModifiedDate.getTime(), CreatedDate.getTime());
      });

      test('given members are returned as sent; OperatingSystem defaults to WINDOWS', async () => {
        const id = await create({
          Name: 'full-windows',
          Description: 'Every member given',
          GlobalFilters: { PatchFilters: [{ Key: 'PRODUCT', Values: ['WindowsServer2019'] }] },
          ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['SecurityUpdates'] }] }, ComplianceLevel: 'HIGH', ApproveUntilDate: '2026-03-31' }] },
          ApprovedPatches: ['KB2032276'],
          ApprovedPatchesComplianceLevel: 'CRITICAL',
          RejectedPatches: ['MS10-048'],
          RejectedPatchesAction: 'BLOCK',
          AvailableSecurityUpdatesComplianceStatus: 'NON_COMPLIANT',
        });
        const b = await get(id);
        assert.equal(b.OperatingSystem, 'WINDOWS');
        assert.equal(b.Description, 'Every member given');
        assert.deepEqual(b.GlobalFilters, { PatchFilters: [{ Key: 'PRODUCT', Values: ['WindowsServer2019'] }] });
        assert.deepEqual(b.ApprovalRules!.PatchRules, [{
          PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['SecurityUpdates'] }] }, ComplianceLevel: 'HIGH', ApproveUntilDate: '2026-03-31', EnableNonSecurity: false,
        }]);
        assert.deepEqual([b.ApprovedPatches, b.ApprovedPatchesComplianceLevel, b.RejectedPatches, b.RejectedPatchesAction, b.AvailableSecurityUpdatesComplianceStatus],
          [['KB2032276'], 'CRITICAL', ['MS10-048'], 'BLOCK', 'NON_COMPLIANT']);
      });

      test('ClientToken: same token and input → same id; different input → IdempotentParameterMismatch; nothing extra created', async () => {
        const input = { Name: 'idempotent', OperatingSystem: 'DEBIAN' as const, Description: 'first', ClientToken: 'token-0001', Tags: [{ Key: 'k', Value: 'v' }] };
        const before = await ownIds();
        const first = await create(input);
        const second = await create({ ...input });
        assert.equal(second, first);
        assert.deepEqual(await ownIds(), [...before, first].sort(), 'one baseline created, not two');
        await rejectsWith(create({ ...input, Description: 'second' }), 'IdempotentParameterMismatch');
        await rejectsWith(create({ ...input, Tags: [{ Key: 'k', Value: 'other' }] }), 'IdempotentParameterMismatch');
        assert.deepEqual(await ownIds(), [...before, first].sort());
        assert.equal((await get(first)).Description, 'first');
        // Without a token (the SDK fills a fresh one) the same input creates a second baseline.
        const { ClientToken: _t, ...untokened } = input;
        const third = await create(untokened);
        assert.notEqual(third, first);
      });

      test('concurrent creates with one ClientToken make exactly one baseline', async () => {
        const before = await ownIds();
        const input = { Name: 'concurrent-token', OperatingSystem: 'DEBIAN' as const, ClientToken: 'token-concurrent' };
        const ids = await Promise.all(Array.from({ length: 8 }, () => create(input)));
        assert.equal(new Set(ids).size, 1, `one id for every caller: ${ids.join(', ')}`);
        assert.deepEqual(await ownIds(), [...before, ids[0]!].sort());
      });

      const rejected: Array<[string, Partial<CreatePatchBaselineCommandInput> & { Name: string }, RegExp]> = [
        ['PRIORITY key on a WINDOWS baseline', {
          Name: 'bad-key', OperatingSystem: 'WINDOWS', GlobalFilters: { PatchFilters: [{ Key: 'PRIORITY', Values: ['Required'] }] },
        }, /PRIORITY/],
        ['CLASSIFICATION value outside the OS list', {
          Name: 'bad-class', OperatingSystem: 'AMAZON_LINUX_2',
          ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['CriticalUpdates'] }] }, ApproveAfterDays: 1 }] },
        }, /^Invalid Filter Value: CriticalUpdates for Key: CLASSIFICATION, valid values are: .*Security/],
        ['PRODUCT All', {
          Name: 'bad-product', OperatingSystem: 'AMAZON_LINUX_2',
          GlobalFilters: { PatchFilters: [{ Key: 'PRODUCT', Values: ['All'] }] },
        }, /^Invalid Filter Value: All for Key: PRODUCT, valid values are:/],
        ['AMAZON_LINUX_2 rule without ApproveAfterDays or ApproveUntilDate', {
          Name: 'no-approval', OperatingSystem: 'AMAZON_LINUX_2',
          ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }] } }] },
        }, /ApproveAfterDays|ApproveUntilDate/],
        ['a rule with both ApproveAfterDays and ApproveUntilDate', {
          Name: 'both-approval', OperatingSystem: 'AMAZON_LINUX_2',
          ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }] }, ApproveAfterDays: 3, ApproveUntilDate: '2026-01-31' }] },
        }, /ApproveAfterDays|ApproveUntilDate/],
        ['ApproveUntilDate 2026-02-30', {
          Name: 'bad-date', OperatingSystem: 'AMAZON_LINUX_2',
          ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }] }, ApproveUntilDate: '2026-02-30' }] },
        }, /2026-02-30/],
      ];
      for (const [what, input, message] of rejected) {
        test(`semantic validation: ${what} → ValidationException, nothing created`, async () => {
          const before = await ownIds();
          await rejectsWith(create(input), 'ValidationException', message);
          assert.deepEqual(await ownIds(), before);
        });
      }

      test('semantic validation accepts what AWS accepts: DEBIAN rule without dates, a real calendar date, a future product', async () => {
        const debian = await create({
          Name: 'debian-no-dates', OperatingSystem: 'DEBIAN',
          ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRIORITY', Values: ['Required', 'Important'] }] } }] },
        });
        const rule = (await get(debian)).ApprovalRules!.PatchRules![0]!;
        assert.equal(rule.ApproveAfterDays, undefined);
        assert.equal(rule.ApproveUntilDate, undefined);
        assert.equal(rule.ComplianceLevel, 'UNSPECIFIED');
        await create({
          Name: 'leap-day', OperatingSystem: 'AMAZON_LINUX_2',
          ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }] }, ApproveUntilDate: '2028-02-29' }] },
        });
        await create({ Name: 'wildcards', OperatingSystem: 'AMAZON_LINUX_2', GlobalFilters: { PatchFilters: [{ Key: 'PRODUCT', Values: ['*'] }] } });
      });
    });

    describe('UpdatePatchBaseline', () => {
      test('without Replace only the given members change; ModifiedDate advances, CreatedDate stays', async () => {
        const id = await create({
          Name: 'partial-update', OperatingSystem: 'AMAZON_LINUX_2', Description: 'before',
          ApprovalRules: { PatchRules: [AL2_RULE(5)] }, ApprovedPatches: ['kernel'], RejectedPatchesAction: 'BLOCK',
        });
        const before = await get(id);
        const updated = await ssm.send(new UpdatePatchBaselineCommand({ BaselineId: id, Description: 'after' }));
        assert.equal(updated.Description, 'after');
        assert.equal(updated.Name, 'partial-update');
        assert.deepEqual(updated.ApprovalRules, before.ApprovalRules);
        assert.deepEqual(updated.ApprovedPatches, ['kernel']);
        assert.equal(updated.RejectedPatchesAction, 'BLOCK');
        assert.equal(updated.OperatingSystem, 'AMAZON_LINUX_2');
        assert.equal('PatchGroups' in updated, false, 'UpdatePatchBaseline has no PatchGroups member');
        assert.equal(updated.CreatedDate!.getTime(), before.CreatedDate!.getTime());
        assert.ok(updated.ModifiedDate!.getTime() > before.ModifiedDate!.getTime(), 'ModifiedDate advances');
        const reread = await get(id);
        assert.equal(reread.Description, 'after');
        assert.deepEqual(reread.ApprovalRules, before.ApprovalRules);
        assert.equal(reread.ModifiedDate!.getTime(), updated.ModifiedDate!.getTime());
        assert.equal(reread.CreatedDate!.getTime(), before.CreatedDate!.getTime());
      });

      test('Replace=true clears the members it does not give; Replace without Name → ValidationException', async () => {
        const id = await create({
          Name: 'replace-me', OperatingSystem: 'AMAZON_LINUX_2', Description: 'will be cleared',
          ApprovalRules: { PatchRules: [AL2_RULE(5)] }, ApprovedPatches: ['kernel'], RejectedPatches: ['telnet'], RejectedPatchesAction: 'BLOCK',
          GlobalFilters: { PatchFilters: [{ Key: 'PRODUCT', Values: ['AmazonLinux2'] }] },
        });
        const before = await get(id);
        await rejectsWith(ssm.send(new UpdatePatchBaselineCommand({ BaselineId: id, Replace: true, Description: 'no name' })), 'ValidationException', /name/i);
        assert.deepEqual(withoutMetadata(await get(id)), withoutMetadata(before), 'a refused Replace changes nothing');

        const replaced = await ssm.send(new UpdatePatchBaselineCommand({ BaselineId: id, Replace: true, Name: 'replaced', ApprovedPatches: ['openssl'] }));
        assert.equal(replaced.Name, 'replaced');
        assert.equal(replaced.Description, undefined);
        assert.deepEqual(replaced.ApprovedPatches, ['openssl']);
        assert.deepEqual(replaced.RejectedPatches, []);
        assert.equal(replaced.RejectedPatchesAction, 'ALLOW_AS_DEPENDENCY');
        assert.deepEqual(replaced.ApprovalRules, { PatchRules: [] });
        assert.deepEqual(replaced.GlobalFilters, { PatchFilters: [] });
        const reread = await get(id);
        assert.equal(reread.Description, undefined);
        assert.equal(reread.Name, 'replaced');
        assert.deepEqual(reread.ApprovalRules, { PatchRules: [] });
        assert.equal(reread.OperatingSystem, 'AMAZON_LINUX_2');
      });

      test('an update that fails semantic validation changes nothing', async () => {
        const id = await create({ Name: 'keep-valid', OperatingSystem: 'AMAZON_LINUX_2', ApprovalRules: { PatchRules: [AL2_RULE(5)] } });
        const before = await get(id);
        await rejectsWith(ssm.send(new UpdatePatchBaselineCommand({
          BaselineId: id, Name: 'renamed',
          ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }] } }] },
        })), 'ValidationException');
        const after = await get(id);
        assert.equal(after.Name, 'keep-valid');
        assert.deepEqual(after.ApprovalRules, before.ApprovalRules);
        assert.equal(after.ModifiedDate!.getTime(), before.ModifiedDate!.getTime());
      });

      test('unknown id → DoesNotExistException; an AWS-provided baseline is refused and unchanged', async () => {
        await rejectsWith(ssm.send(new UpdatePatchBaselineCommand({ BaselineId: UNKNOWN_ID, Description: 'x' })), 'DoesNotExistException');
        const arn = awsDefault('UBUNTU');
        const before = await get(arn);
        const err = await rejectsWith(ssm.send(new UpdatePatchBaselineCommand({ BaselineId: arn, Description: 'hijacked' })), 'ValidationException');
        assert.equal((err as { $fault?: string }).$fault, 'client');
        const after = await get(arn);
        assert.equal(after.Description, before.Description);
        assert.deepEqual(after.ApprovalRules, before.ApprovalRules);
      });
    });

    describe('DeletePatchBaseline', () => {
      test('refused while registered to a patch group and while the OS default; then deleted, and deleting again succeeds', async () => {
        const id = await create({ Name: 'to-delete', OperatingSystem: 'SUSE' });
        await ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId: id, PatchGroup: 'delete-group' }));
        await rejectsWith(ssm.send(new DeletePatchBaselineCommand({ BaselineId: id })), 'ResourceInUseException', /delete-group/);
        await ssm.send(new DeregisterPatchBaselineForPatchGroupCommand({ BaselineId: id, PatchGroup: 'delete-group' }));

        await ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: id }));
        await rejectsWith(ssm.send(new DeletePatchBaselineCommand({ BaselineId: id })), 'ResourceInUseException', /default/);
        assert.equal((await get(id)).Name, 'to-delete', 'still there after the refusals');
        await ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: awsDefault('SUSE') }));

        const deleted = await ssm.send(new DeletePatchBaselineCommand({ BaselineId: id }));
        assert.equal(deleted.BaselineId, id);
        await rejectsWith(get(id), 'DoesNotExistException');
        assert.equal((await ownIds()).includes(id), false);
        const again = await ssm.send(new DeletePatchBaselineCommand({ BaselineId: id }));
        assert.equal(again.BaselineId, id);
      });

      test('an AWS-provided baseline cannot be deleted', async () => {
        const arn = awsDefault('CENTOS');
        await rejectsWith(ssm.send(new DeletePatchBaselineCommand({ BaselineId: arn })), 'ValidationException');
        assert.equal((await get(arn)).BaselineId, arn);
      });
    });

    describe('DescribePatchBaselines', () => {
      test('OWNER=AWS: 17 AWS baselines with ARNs of the configured region, one default per OS', async () => {
        const aws = await describeAll([{ Key: 'OWNER', Values: ['AWS'] }]);
        assert.equal(aws.length, 17);
        for (const b of aws) {
          assert.match(b.BaselineId!, new RegExp(`^arn:aws:ssm:${server.config.region}:\\d{12}:patchbaseline/pb-[0-9a-f]{17}$`));
          assert.match(b.BaselineName!, /^AWS-/);
        }
        assert.equal(new Set(aws.map((b) => b.BaselineId)).size, 17, 'ids are unique');
        assert.deepEqual([...new Set(aws.map((b) => b.OperatingSystem))].sort(), [...OPERATING_SYSTEMS].sort());
        for (const os of OPERATING_SYSTEMS) {
          const defaults = aws.filter((b) => b.OperatingSystem === os && b.DefaultBaseline === true);
          assert.equal(defaults.length, 1, `exactly one default for ${os}`);
          assert.equal(defaults[0]!.BaselineId, REFERENCE_ARNS['us-east-1']![os], `${os} default is AWS's real ARN`);
        }
        const debian = aws.find((b) => b.BaselineName === 'AWS-DebianDefaultPatchBaseline')!;
        assert.equal(debian.BaselineId, REFERENCE_ARNS['us-east-1']!.DEBIAN);
      });

      test('the AWS ARNs follow PATCHLINE_REGION', async () => {
        const paris = await startTestServer({ engine, env: { PATCHLINE_REGION: 'eu-west-3' } });
        try {
          const client = paris.client();
          const aws: PatchBaselineIdentity[] = [];
          for await (const page of paginateDescribePatchBaselines({ client }, { Filters: [{ Key: 'OWNER', Values: ['AWS'] }] })) aws.push(...page.BaselineIdentities!);
          assert.equal(aws.length, 17);
          for (const b of aws) assert.match(b.BaselineId!, /^arn:aws:ssm:eu-west-3:\d{12}:patchbaseline\//);
          const debian = aws.find((b) => b.OperatingSystem === 'DEBIAN' && b.DefaultBaseline)!;
          assert.equal(debian.BaselineId, REFERENCE_ARNS['eu-west-3']!.DEBIAN);
          assert.equal((await client.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'DEBIAN' }))).BaselineId, REFERENCE_ARNS['eu-west-3']!.DEBIAN);
        } finally {
          await paris.close();
        }
      });

      test('OWNER=Self, NAME_PREFIX and OPERATING_SYSTEM filters', async () => {
        const a = await create({ Name: 'filter-alpha-1', OperatingSystem: 'UBUNTU' });
        const b = await create({ Name: 'filter-alpha-2', OperatingSystem: 'MACOS' });
        const c = await create({ Name: 'filter-beta-1', OperatingSystem: 'UBUNTU', Description: 'described' });

        const self = await describeAll([{ Key: 'OWNER', Values: ['Self'] }]);
        assert.ok(self.every((x) => /^pb-[0-9a-f]{17}$/.test(x.BaselineId!) && x.DefaultBaseline === false));
        for (const id of [a, b, c]) assert.ok(self.some((x) => x.BaselineId === id));

        const alpha = await describeAll([{ Key: 'NAME_PREFIX', Values: ['filter-alpha'] }]);
        assert.deepEqual(alpha.map((x) => x.BaselineId).sort(), [a, b].sort());
        const ubuntu = await describeAll([{ Key: 'NAME_PREFIX', Values: ['filter-'] }, { Key: 'OPERATING_SYSTEM', Values: ['UBUNTU'] }]);
        assert.deepEqual(ubuntu.map((x) => x.BaselineId).sort(), [a, c].sort());
        const beta = ubuntu.find((x) => x.BaselineId === c)!;
        assert.deepEqual(beta, { BaselineId: c, BaselineName: 'filter-beta-1', OperatingSystem: 'UBUNTU', BaselineDescription: 'described', DefaultBaseline: false });

        const allUbuntu = await describeAll([{ Key: 'OPERATING_SYSTEM', Values: ['UBUNTU'] }]);
        assert.ok(allUbuntu.every((x) => x.OperatingSystem === 'UBUNTU'));
        assert.ok(allUbuntu.some((x) => x.BaselineId === REFERENCE_ARNS['us-east-1']!.UBUNTU), 'without OWNER, AWS baselines are included');
        assert.ok(allUbuntu.some((x) => x.BaselineId === a));
        const awsUbuntu = await describeAll([{ Key: 'OPERATING_SYSTEM', Values: ['UBUNTU'] }, { Key: 'OWNER', Values: ['AWS'] }]);
        assert.deepEqual(awsUbuntu.map((x) => x.BaselineName), ['AWS-UbuntuDefaultPatchBaseline']);
        assert.deepEqual(await describeAll([{ Key: 'NAME_PREFIX', Values: ['no-such-prefix'] }]), []);
      });

      test('paginateDescribePatchBaselines with MaxResults 2 visits every baseline exactly once', async () => {
        for (let i = 0; i < 3; i++) await create({ Name: `paged-${i}`, OperatingSystem: 'WINDOWS' });
        const single = await ssm.send(new DescribePatchBaselinesCommand({ MaxResults: 100 }));
        assert.equal(single.NextToken, undefined);
        const expected = single.BaselineIdentities!.map((b) => b.BaselineId!);
        assert.ok(expected.length > 20);
        const seen: string[] = [];
        let pages = 0;
        for await (const page of paginateDescribePatchBaselines({ client: ssm, pageSize: 2 }, {})) {
          pages++;
          assert.ok(page.BaselineIdentities!.length <= 2);
          seen.push(...page.BaselineIdentities!.map((b) => b.BaselineId!));
        }
        assert.equal(new Set(seen).size, seen.length, 'no baseline twice');
        assert.deepEqual([...seen].sort(), [...expected].sort());
        assert.equal(pages, Math.ceil(expected.length / 2));
      });

      test('a forged or altered NextToken → ValidationException; a token reused with other filters is refused', async () => {
        const first = await ssm.send(new DescribePatchBaselinesCommand({ MaxResults: 2, Filters: [{ Key: 'OWNER', Values: ['AWS'] }] }));
        const token = first.NextToken!;
        assert.equal(typeof token, 'string');
        const next = await ssm.send(new DescribePatchBaselinesCommand({ MaxResults: 2, NextToken: token, Filters: [{ Key: 'OWNER', Values: ['AWS'] }] }));
        assert.equal(next.BaselineIdentities!.length, 2);
        assert.notEqual(next.BaselineIdentities![0]!.BaselineId, first.BaselineIdentities![0]!.BaselineId);

        const middle = Math.floor(token.length / 2);
        const altered = token.slice(0, middle) + (token[middle] === 'A' ? 'B' : 'A') + token.slice(middle + 1);
        for (const bad of ['forged-token', 'A'.repeat(80), altered, token + 'AAAA']) {
          await rejectsWith(ssm.send(new DescribePatchBaselinesCommand({ NextToken: bad, Filters: [{ Key: 'OWNER', Values: ['AWS'] }], MaxResults: 2 })), 'ValidationException');
        }
        await rejectsWith(ssm.send(new DescribePatchBaselinesCommand({ NextToken: token, Filters: [{ Key: 'OWNER', Values: ['Self'] }], MaxResults: 2 })), 'ValidationException', /different request/);
        await rejectsWith(ssm.send(new DescribePatchBaselinesCommand({ NextToken: token, MaxResults: 2 })), 'ValidationException');
      });

      test('an invalid filter is refused', async () => {
        await rejectsWith(ssm.send(new DescribePatchBaselinesCommand({ Filters: [{ Key: 'OWNER', Values: ['Somebody'] }] })), 'ValidationException');
        await rejectsWith(ssm.send(new DescribePatchBaselinesCommand({ Filters: [{ Key: 'COLOUR', Values: ['blue'] }] })), 'ValidationException');
      });
    });

    describe('GetPatchBaseline ids', () => {
      test('an AWS baseline by ARN works; its bare pb- id → DoesNotExistException; a malformed id → InvalidResourceId', async () => {
        const arn = REFERENCE_ARNS['us-east-1']!.DEBIAN!;
        const debian = await get(arn);
        assert.equal(debian.BaselineId, arn);
        assert.equal(debian.Name, 'AWS-DebianDefaultPatchBaseline');
        assert.equal(debian.OperatingSystem, 'DEBIAN');
        assert.deepEqual(debian.PatchGroups, []);
        assert.ok(debian.CreatedDate instanceof Date);

        const bare = arn.slice(arn.lastIndexOf('/') + 1);
        assert.match(bare, /^pb-[0-9a-f]{17}$/);
        const hint = new RegExp(`full ARN: ${arn.replace(/[/]/g, '\\/')}`);
        await rejectsWith(get(bare), 'DoesNotExistException', hint);
        // Not mistaken for an own baseline anywhere: deleting or deregistering it by the bare id is refused too.
        await rejectsWith(ssm.send(new DeletePatchBaselineCommand({ BaselineId: bare })), 'DoesNotExistException', hint);
        await rejectsWith(ssm.send(new DeregisterPatchBaselineForPatchGroupCommand({ BaselineId: bare, PatchGroup: 'g' })), 'DoesNotExistException', hint);
        await rejectsWith(ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: bare })), 'DoesNotExistException', hint);
        await rejectsWith(get('abcdefghijklmnopqrstuvwxyz'), 'InvalidResourceId');
        await rejectsWith(get(UNKNOWN_ID), 'DoesNotExistException');
        await rejectsWith(get('arn:aws:ssm:us-east-1:123456789012:patchbaseline/pb-0123456789abcdef0'), 'DoesNotExistException');
        await rejectsWith(get('x'.repeat(19)), 'ValidationException', /length greater than or equal to 20/);
      });

      test('an own baseline is found by its ARN form too', async () => {
        const id = await create({ Name: 'by-arn', OperatingSystem: 'MACOS' });
        const arn = `arn:aws:ssm:${server.config.region}:${server.config.accountId}:patchbaseline/${id}`;
        assert.equal((await get(arn)).Name, 'by-arn');
      });
    });

    describe('RegisterDefaultPatchBaseline and GetDefaultPatchBaseline', () => {
      test('the default is AWS\'s ARN; a custom default moves DefaultBaseline; AWS\'s ARN restores it', async () => {
        const awsArn = awsDefault('DEBIAN');
        const getDefault = async () => (await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'DEBIAN' }))).BaselineId;
        const flags = async () => Object.fromEntries((await describeAll([{ Key: 'OPERATING_SYSTEM', Values: ['DEBIAN'] }])).map((b) => [b.BaselineId, b.DefaultBaseline]));
        assert.equal(await getDefault(), awsArn);

        const id = await create({ Name: 'debian-default', OperatingSystem: 'DEBIAN' });
        const registered = await ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: id }));
        assert.equal(registered.BaselineId, id);
        assert.equal(await getDefault(), id);
        let f = await flags();
        assert.equal(f[id], true);
        assert.equal(f[awsArn], false);
        assert.equal(Object.values(f).filter((v) => v).length, 1);
        // Other operating systems keep AWS's default.
        assert.equal((await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'UBUNTU' }))).BaselineId, awsDefault('UBUNTU'));

        const restored = await ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: awsArn }));
        assert.equal(restored.BaselineId, awsArn);
        assert.equal(await getDefault(), awsArn);
        f = await flags();
        assert.equal(f[id], false);
        assert.equal(f[awsArn], true);
      });

      test('GetDefaultPatchBaseline without OperatingSystem answers for WINDOWS', async () => {
        const r = await ssm.send(new GetDefaultPatchBaselineCommand({}));
        assert.equal(r.OperatingSystem, 'WINDOWS');
        assert.equal(r.BaselineId, awsDefault('WINDOWS'));
      });

      test('every operating system has AWS\'s default until one is registered', async () => {
        for (const os of OPERATING_SYSTEMS) {
          if (os === 'DEBIAN' || os === 'SUSE') continue; // other tests move these and put them back
          const r = await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: os as never }));
          assert.equal(r.BaselineId, awsDefault(os), os);
        }
      });

      test('unknown or malformed ids are refused and the default is unchanged', async () => {
        await rejectsWith(ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: UNKNOWN_ID })), 'DoesNotExistException');
        await rejectsWith(ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: 'abcdefghijklmnopqrstuvwxyz' })), 'InvalidResourceId');
        assert.equal((await ssm.send(new GetDefaultPatchBaselineCommand({}))).BaselineId, awsDefault('WINDOWS'));
      });
    });
  });
}
