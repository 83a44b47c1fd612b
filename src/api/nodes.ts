// Managed nodes: DescribeInstanceInformation (filters, tag filters, pagination, ping status from last contact).

import { ServiceError, Errors } from '../server/errors.ts';
import { defineOperations } from '../server/operation.ts';
import { Pager } from './pagination.ts';
import type { DescribeInstanceInformationRequest, InstanceInformation } from '../generated/ssm-types.ts';
import type { NodesTable } from '../store/schema.ts';

/** A node is Online while it has been in contact within this window, ConnectionLost after. */
export const PING_ONLINE_WINDOW_MS = 30 * 60 * 1000;

const LEGACY_KEYS = new Set(['InstanceIds', 'AgentVersion', 'PingStatus', 'PlatformTypes', 'ActivationIds', 'IamRole', 'ResourceType', 'AssociationStatus']);
const STRING_KEYS = new Set([...LEGACY_KEYS, 'SourceIds', 'SourceTypes']);

export function pingStatus(node: Pick<NodesTable, 'last_ping_at'>, now: number): 'Online' | 'ConnectionLost' {
  return node.last_ping_at !== null && now - Number(node.last_ping_at) <= PING_ONLINE_WINDOW_MS ? 'Online' : 'ConnectionLost';
}

function nodeOutput(n: NodesTable, now: number): InstanceInformation {
  const out: InstanceInformation = { InstanceId: n.instance_id, PingStatus: pingStatus(n, now), ResourceType: n.resource_type as InstanceInformation['ResourceType'] };
  if (n.last_ping_at !== null) out.LastPingDateTime = Number(n.last_ping_at) / 1000;
  if (n.agent_version !== null) {
    out.AgentVersion = n.agent_version;
    out.IsLatestVersion = false;
  }
  if (n.platform_type !== null) out.PlatformType = n.platform_type as InstanceInformation['PlatformType'];
  if (n.platform_name !== null) out.PlatformName = n.platform_name;
  if (n.platform_version !== null) out.PlatformVersion = n.platform_version;
  if (n.activation_id !== null) out.ActivationId = n.activation_id;
  if (n.iam_role !== null) out.IamRole = n.iam_role;
  if (n.registration_date !== null) out.RegistrationDate = Number(n.registration_date) / 1000;
  if (n.name !== null) out.Name = n.name;
  if (n.ip_address !== null) out.IPAddress = n.ip_address;
  if (n.computer_name !== null) out.ComputerName = n.computer_name;
  if (n.source_id !== null) out.SourceId = n.source_id;
  if (n.source_type !== null) out.SourceType = n.source_type as InstanceInformation['SourceType'];
  return out;
}

export const nodeOperations = defineOperations({
  async DescribeInstanceInformation(input: DescribeInstanceInformationRequest, ctx) {
    const { app, now } = ctx;
    if (input.InstanceInformationFilterList !== undefined && input.Filters !== undefined) {
      throw Errors.validation('Use either InstanceInformationFilterList or Filters, not both.');
    }
    const filters: Array<{ key: string; values: string[] }> = [
      ...(input.InstanceInformationFilterList ?? []).map((f) => ({ key: f.key, values: f.valueSet })),
      ...(input.Filters ?? []).map((f) => ({ key: f.Key, values: f.Values })),
    ];
    const tagFilters = filters.filter((f) => f.key === 'tag-key' || f.key.startsWith('tag:'));
    if (tagFilters.length > 0 && tagFilters.length !== filters.length) {
      throw new ServiceError('InvalidInstanceInformationFilterValue', 'Tag filters (tag-key, tag:<key>) cannot be combined with other filter keys.');
    }
    for (const f of filters) {
      if (!STRING_KEYS.has(f.key) && f.key !== 'tag-key' && !f.key.startsWith('tag:')) throw new ServiceError('InvalidFilterKey', `The filter key '${f.key}' is not valid.`);
      if (f.key === 'PingStatus' && f.values.some((v) => !['Online', 'ConnectionLost', 'Inactive'].includes(v))) {
        throw new ServiceError('InvalidInstanceInformationFilterValue', `PingStatus values are Online, ConnectionLost and Inactive.`);
      }
      if (f.key === 'PlatformTypes' && f.values.some((v) => !['Windows', 'Linux', 'MacOS'].includes(v))) {
        throw new ServiceError('InvalidInstanceInformationFilterValue', `PlatformTypes values are Windows, Linux and MacOS.`);
      }
      if (f.key === 'ResourceType' && f.values.some((v) => !['ManagedInstance', 'EC2Instance'].includes(v))) {
        throw new ServiceError('InvalidInstanceInformationFilterValue', `ResourceType values are ManagedInstance and EC2Instance.`);
      }
    }
    const pager = new Pager<string>(ctx, input as unknown as Record<string, unknown>, 10);
    let q = app.store.db.selectFrom('nodes').selectAll();
    for (const f of filters) {
      switch (f.key) {
        case 'InstanceIds': {
          const missing = [];
          for (const id of f.values) if (!(await app.reports.nodeExists(id))) missing.push(id);
          if (missing.length > 0) throw Errors.invalidInstanceId(`Instance(s) ${missing.join(', ')} are not managed nodes known to Patchline.`);
          q = q.where('instance_id', 'in', f.values);
          break;
        }
        case 'AgentVersion': q = q.where('agent_version', 'in', f.values); break;
        case 'PlatformTypes': q = q.where('platform_type', 'in', f.values); break;
        case 'ActivationIds': q = q.where('activation_id', 'in', f.values); break;
        case 'IamRole': q = q.where('iam_role', 'in', f.values); break;
        case 'ResourceType': q = q.where('resource_type', 'in', f.values); break;
        case 'SourceIds': q = q.where('source_id', 'in', f.values); break;
        case 'SourceTypes': q = q.where('source_type', 'in', f.values); break;
        case 'AssociationStatus': q = q.where('instance_id', '=', '\u0000'); break; // Patchline runs no associations: nothing matches
        case 'PingStatus': {
          const cutoff = now - PING_ONLINE_WINDOW_MS;
          const online = f.values.includes('Online');
          const lost = f.values.includes('ConnectionLost');
          if (online && !lost) q = q.where('last_ping_at', '>=', cutoff);
          else if (lost && !online) q = q.where((eb) => eb.or([eb('last_ping_at', '<', cutoff), eb('last_ping_at', 'is', null)]));
          else if (!online && !lost) q = q.where('instance_id', '=', '\u0000');
          break;
        }
        default: {
          const key = f.key === 'tag-key' ? undefined : f.key.slice(4);
          q = q.where((eb) => eb.exists(eb.selectFrom('tags').select('tags.tag_key')
            .where('tags.resource_type', '=', 'ManagedInstance').whereRef('tags.resource_id', '=', 'nodes.instance_id')
            .where((t) => (key === undefined ? t('tags.tag_key', 'in', f.values) : t.and([t('tags.tag_key', '=', key), t('tags.tag_value', 'in', f.values)])))));
        }
      }
    }
    if (pager.cursor !== undefined) q = q.where('instance_id', '>', pager.cursor);
    const rows = await q.orderBy('instance_id').limit(pager.limit + 1).execute();
    const page = rows.slice(0, pager.limit);
    const out: Record<string, unknown> = { InstanceInformationList: page.map((n) => nodeOutput(n, now)) };
    if (rows.length > pager.limit) out.NextToken = pager.next(page[page.length - 1]!.instance_id);
    return out;
  },
});
