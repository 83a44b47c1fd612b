// DescribePatchProperties: the values usable in patch filters, per operating system, property and patch set.

import { Errors } from '../server/errors.ts';
import { defineOperations } from '../server/operation.ts';
import { patchPropertyValues, validProperties } from '../domain/patch-properties.ts';
import { Pager } from './pagination.ts';
import type { DescribePatchPropertiesRequest } from '../generated/ssm-types.ts';

export const patchPropertyOperations = defineOperations({
  async DescribePatchProperties(input: DescribePatchPropertiesRequest, ctx) {
    const os = input.OperatingSystem;
    const valid = validProperties(os);
    if (!valid.includes(input.Property)) {
      throw Errors.validation(`Property ${input.Property} is not supported for operating system ${os}. Supported properties: ${valid.join(', ')}.`);
    }
    if (input.PatchSet !== undefined && os !== 'WINDOWS') {
      throw Errors.validation(`PatchSet applies to WINDOWS only, not ${os}.`);
    }
    const values = patchPropertyValues(os, input.Property, input.PatchSet ?? 'OS') ?? [];
    const pager = new Pager<number>(ctx, input as unknown as Record<string, unknown>, 50);
    const start = pager.cursor ?? 0;
    const page = values.slice(start, start + pager.limit);
    const next = start + pager.limit < values.length ? pager.next(start + pager.limit) : undefined;
    return { Properties: page.map((v) => ({ Name: v })), ...(next ? { NextToken: next } : {}) };
  },
});
