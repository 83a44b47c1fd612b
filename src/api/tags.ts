// Tag operations: AddTagsToResource, RemoveTagsFromResource, ListTagsForResource, for PatchBaseline and
// ManagedInstance resources (a node's `Patch Group` / `PatchGroup` tag puts it into a patch group).

import { ServiceError, Errors } from '../server/errors.ts';
import { defineOperations, type RequestContext } from '../server/operation.ts';
import { parseBaselineId } from './baseline-lookup.ts';
import type { AddTagsToResourceRequest, ListTagsForResourceRequest, RemoveTagsFromResourceRequest, Tag } from '../generated/ssm-types.ts';

export const MAX_TAGS_PER_RESOURCE = 50;
export const PATCH_GROUP_TAG_KEYS = ['Patch Group', 'PatchGroup'] as const;

const tooManyTags = () => new ServiceError('TooManyTagsError', `The resource would have more than ${MAX_TAGS_PER_RESOURCE} tags. Remove tags before adding new ones.`);

/** Checks a list of tags given in one request: no duplicate keys, no reserved `aws:` prefix, at most 50. */
export function checkTagsForCreate(tags: Tag[]): void {
  checkTagList(tags);
  if (tags.length > MAX_TAGS_PER_RESOURCE) throw tooManyTags();
}

function checkTagList(tags: Tag[]): void {
  const seen = new Set<string>();
  for (const t of tags) {
    if (seen.has(t.Key)) throw Errors.validation(`Duplicate tag key '${t.Key}' in the request.`);
    seen.add(t.Key);
    if (t.Key.toLowerCase().startsWith('aws:')) throw Errors.validation(`Tag keys beginning with 'aws:' are reserved for AWS use: '${t.Key}'.`);
  }
}

const INSTANCE_ID = /^(i-(\w{8}|\w{17})|mi-\w{17})$/;

/** Resolves the resource a tagging request names, or throws InvalidResourceType / InvalidResourceId. */
async function resolveResource(ctx: RequestContext, resourceType: string, resourceId: string): Promise<{ type: string; id: string }> {
  if (resourceType === 'PatchBaseline') {
    let ref;
    try {
      ref = parseBaselineId(ctx.app, resourceId);
    } catch {
      throw Errors.invalidResourceId(`Patch baseline ${resourceId} does not exist.`);
    }
    if (ref.owner === 'AWS') throw Errors.invalidResourceId(`Patch baseline ${resourceId} is provided by AWS and cannot be tagged.`);
    if ((await ctx.app.store.getBaseline(ref.id)) === undefined) throw Errors.invalidResourceId(`Patch baseline ${resourceId} does not exist.`);
    return { type: 'PatchBaseline', id: ref.id };
  }
  if (resourceType === 'ManagedInstance') {
    if (!INSTANCE_ID.test(resourceId)) throw Errors.invalidResourceId(`Invalid managed node id '${resourceId}': expected mi- followed by 17 characters (or an i- id).`);
    if (!(await ctx.app.nodes.exists(resourceId))) {
      throw Errors.invalidResourceId(`Managed node ${resourceId} does not exist. A node exists once it registers or first reports.`);
    }
    return { type: 'ManagedInstance', id: resourceId };
  }
  throw Errors.invalidResourceType(`Patchline supports tags on PatchBaseline and ManagedInstance resources, not ${resourceType}.`);
}

async function tagsChanged(ctx: RequestContext, type: string, id: string, keys: string[]): Promise<void> {
  if (type === 'ManagedInstance' && keys.some((k) => (PATCH_GROUP_TAG_KEYS as readonly string[]).includes(k))) {
    await ctx.app.evaluator.notify({ instanceIds: [id] });
  }
}

export const tagOperations = defineOperations({
  async AddTagsToResource(input: AddTagsToResourceRequest, ctx) {
    checkTagList(input.Tags);
    const { type, id } = await resolveResource(ctx, input.ResourceType, input.ResourceId);
    await ctx.app.store.transaction(async (trx) => {
      const existing = await ctx.app.store.listTags(type, id, trx);
      const keys = new Set(existing.map((t) => t.Key));
      input.Tags.forEach((t) => keys.add(t.Key));
      if (keys.size > MAX_TAGS_PER_RESOURCE) throw tooManyTags();
      await ctx.app.store.putTags(type, id, input.Tags, trx);
      await ctx.app.nodes.tagsChanged(type, id, trx);
    });
    await tagsChanged(ctx, type, id, input.Tags.map((t) => t.Key));
    return {};
  },

  async RemoveTagsFromResource(input: RemoveTagsFromResourceRequest, ctx) {
    const { type, id } = await resolveResource(ctx, input.ResourceType, input.ResourceId);
    await ctx.app.store.transaction(async (trx) => {
      await ctx.app.store.removeTags(type, id, input.TagKeys, trx);
      await ctx.app.nodes.tagsChanged(type, id, trx);
    });
    await tagsChanged(ctx, type, id, input.TagKeys);
    return {};
  },

  async ListTagsForResource(input: ListTagsForResourceRequest, ctx) {
    const { type, id } = await resolveResource(ctx, input.ResourceType, input.ResourceId);
    return { TagList: await ctx.app.store.listTags(type, id) };
  },
});
