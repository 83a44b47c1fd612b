// Hybrid activations and managed-node registration, as SSM does it: CreateActivation, DescribeActivations,
// DeleteActivation, DeregisterManagedInstance, UpdateManagedInstanceRole, and Patchline.RegisterManagedInstance,
// which a node calls signed with the activation id and code as its SigV4 key pair (docs/agent.md), receiving an
// `mi-` id and credentials of its own.

import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { ServiceError, Errors } from '../server/errors.ts';
import { defineOperations } from '../server/operation.ts';
import { Pager } from './pagination.ts';
import { checkTagsForCreate } from './tags.ts';
import type {
  CreateActivationRequest, DeleteActivationRequest, DeregisterManagedInstanceRequest, DescribeActivationsRequest,
  PatchlineRegisterManagedInstanceRequest, Tag, UpdateManagedInstanceRoleRequest,
} from '../generated/ssm-types.ts';
import type { ActivationsTable } from '../store/schema.ts';

const DAY = 86_400_000;
const CODE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function activationCode(): string {
  let code = '';
  for (let i = 0; i < 20; i++) code += CODE_CHARS[randomInt(CODE_CHARS.length)];
  return code;
}

export function newManagedInstanceId(): string {
  return 'mi-' + randomBytes(9).toString('hex').slice(0, 17);
}

function activationOutput(a: ActivationsTable, now: number) {
  const out: Record<string, unknown> = {
    ActivationId: a.activation_id,
    IamRole: a.iam_role,
    RegistrationLimit: a.registration_limit,
    RegistrationsCount: a.registrations_count,
    ExpirationDate: Number(a.expiration_date) / 1000,
    Expired: Number(a.expiration_date) <= now,
    CreatedDate: Number(a.created_date) / 1000,
    Tags: JSON.parse(a.tags) as Tag[],
  };
  if (a.description !== null) out.Description = a.description;
  if (a.default_instance_name !== null) out.DefaultInstanceName = a.default_instance_name;
  return out;
}

export const activationOperations = defineOperations({
  async CreateActivation(input: CreateActivationRequest, ctx) {
    const now = ctx.now;
    const expiration = input.ExpirationDate !== undefined ? Math.round(input.ExpirationDate * 1000) : now + DAY;
    if (expiration <= now) throw new ServiceError('InvalidParameters', 'ExpirationDate must be in the future.');
    if (expiration > now + 30 * DAY) throw new ServiceError('InvalidParameters', 'ExpirationDate can be at most 30 days in the future.');
    const tags = input.Tags ?? [];
    checkTagsForCreate(tags);
    const id = randomUUID();
    const code = activationCode();
    await ctx.app.store.db.insertInto('activations').values({
      activation_id: id,
      code_ciphertext: ctx.app.credentials.encryptActivationCode(id, code),
      description: input.Description ?? null,
      default_instance_name: input.DefaultInstanceName ?? null,
      iam_role: input.IamRole,
      registration_limit: input.RegistrationLimit ?? 1,
      registrations_count: 0,
      expiration_date: expiration,
      created_date: now,
      tags: JSON.stringify(tags),
    }).execute();
    return { ActivationId: id, ActivationCode: code };
  },

  async DescribeActivations(input: DescribeActivationsRequest, ctx) {
    const pager = new Pager<[number, string]>(ctx, input as unknown as Record<string, unknown>, 10);
    let q = ctx.app.store.db.selectFrom('activations').selectAll();
    for (const f of input.Filters ?? []) {
      const values = f.FilterValues ?? [];
      if (f.FilterKey === undefined || values.length === 0) throw Errors.invalidFilter('Each filter needs a FilterKey and at least one value.');
      if (f.FilterKey === 'ActivationIds') q = q.where('activation_id', 'in', values);
      else if (f.FilterKey === 'DefaultInstanceName') q = q.where('default_instance_name', 'in', values);
      else q = q.where('iam_role', 'in', values);
    }
    if (pager.cursor !== undefined) {
      const [created, id] = pager.cursor;
      q = q.where((eb) => eb.or([eb('created_date', '>', created), eb.and([eb('created_date', '=', created), eb('activation_id', '>', id)])]));
    }
    const rows = await q.orderBy('created_date').orderBy('activation_id').limit(pager.limit + 1).execute();
    const page = rows.slice(0, pager.limit);
    const out: Record<string, unknown> = { ActivationList: page.map((a) => activationOutput(a, ctx.now)) };
    if (rows.length > pager.limit) {
      const last = page[page.length - 1]!;
      out.NextToken = pager.next([Number(last.created_date), last.activation_id]);
    }
    return out;
  },

  async DeleteActivation(input: DeleteActivationRequest, ctx) {
    const r = await ctx.app.store.db.deleteFrom('activations').where('activation_id', '=', input.ActivationId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new ServiceError('InvalidActivationId', `Activation ${input.ActivationId} does not exist.`);
    ctx.app.credentials.forget(input.ActivationId);
    return {};
  },

  async DeregisterManagedInstance(input: DeregisterManagedInstanceRequest, ctx) {
    const { app } = ctx;
    const id = input.InstanceId;
    await app.store.transaction(async (trx) => {
      if (!(await app.reports.nodeExists(id, trx))) throw Errors.invalidInstanceId(`Instance ${id} is not a managed node known to Patchline.`);
      await app.reports.lockNode(id, trx);
      await app.credentials.revokeNodeKeys(id, trx);
      await app.reports.removeNodeIn(trx, id);
    });
    return {};
  },

  async UpdateManagedInstanceRole(input: UpdateManagedInstanceRoleRequest, ctx) {
    const r = await ctx.app.store.db.updateTable('nodes').set({ iam_role: input.IamRole }).where('instance_id', '=', input.InstanceId).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw Errors.invalidInstanceId(`Instance ${input.InstanceId} is not a managed node known to Patchline.`);
    return {};
  },

  async 'Patchline.RegisterManagedInstance'(input: PatchlineRegisterManagedInstanceRequest, ctx) {
    const { app, principal, now } = ctx;
    const activationId = principal.activationId;
    if (principal.kind !== 'activation' || activationId === undefined) {
      throw Errors.accessDenied('Register a managed node by signing this request with an activation id and code (CreateActivation), not with an access key.');
    }
    const instanceId = newManagedInstanceId();
    const credentials = await app.store.transaction(async (trx) => {
      if (app.store.engine === 'postgres') await trx.selectFrom('activations').select('activation_id').where('activation_id', '=', activationId).forUpdate().execute();
      const activation = await trx.selectFrom('activations').selectAll().where('activation_id', '=', activationId).executeTakeFirst();
      if (activation === undefined) throw new ServiceError('InvalidActivationId', `Activation ${activationId} does not exist.`);
      if (Number(activation.expiration_date) <= now) throw new ServiceError('InvalidActivation', `Activation ${activationId} has expired.`);
      if (activation.registrations_count >= activation.registration_limit) {
        throw new ServiceError('InvalidActivation', `Activation ${activationId} has reached its registration limit of ${activation.registration_limit}.`);
      }
      await trx.updateTable('activations').set({ registrations_count: activation.registrations_count + 1 }).where('activation_id', '=', activationId).execute();
      await trx.insertInto('nodes').values({
        instance_id: instanceId, resource_type: 'ManagedInstance', name: activation.default_instance_name, computer_name: input.ComputerName ?? null,
        ip_address: input.IPAddress ?? null, platform_type: input.PlatformType ?? null, platform_name: input.PlatformName ?? null,
        platform_version: input.PlatformVersion ?? null, agent_version: input.AgentVersion ?? null, activation_id: activationId,
        iam_role: activation.iam_role, registration_date: now, source_id: null, source_type: 'AWS::SSM::ManagedInstance',
        patch_group_tag: null, created_at: now, last_ping_at: now,
      }).execute();
      await app.reports.nodesAddedIn(trx, [instanceId]);
      const tags = JSON.parse(activation.tags) as Tag[];
      await app.store.putTags('ManagedInstance', instanceId, tags, trx);
      await app.reports.refreshPatchGroupTag(instanceId, trx);
      return app.credentials.createKey('node', { instanceId, label: `registered with activation ${activationId}`, db: trx });
    });
    app.log.info('managed node registered', { requestId: ctx.requestId, instanceId, activationId });
    return { InstanceId: instanceId, AccessKeyId: credentials.accessKeyId, SecretAccessKey: credentials.secretAccessKey, Region: app.config.region };
  },
});
