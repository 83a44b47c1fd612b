// Finding baselines by the ids clients send: `pb-…` for the operator's own, the full ARN for AWS-provided ones
// (as AWS requires), and the ARN form of our own ids. Shared by the baseline, patch-group and tag operations.

import { createHash, randomBytes } from 'node:crypto';
import { Errors } from '../server/errors.ts';
import type { App } from '../app.ts';
import type { Baseline, BaselineDefinition } from '../domain/baseline.ts';
import type { BaselinesTable } from '../store/schema.ts';
import type { Db } from '../store/store.ts';

const OWN_ID = /^pb-[0-9a-f]{17}$/;

export function newBaselineId(): string {
  return 'pb-' + randomBytes(9).toString('hex').slice(0, 17);
}

export type BaselineRef = { owner: 'AWS'; baseline: Baseline } | { owner: 'Self'; id: string };

/** Classifies an id: an AWS-provided baseline, an id of ours, or malformed (InvalidResourceId) / unknown AWS ARN (DoesNotExist). */
export function parseBaselineId(app: App, id: string): BaselineRef {
  const predefined = app.predefined.byId(id);
  if (predefined) return { owner: 'AWS', baseline: predefined };
  // AWS's own ids have our id format too (pb- + 17 hex), so they are recognised before they could pass as ours.
  const awsShort = app.predefined.byShortId(id);
  if (awsShort) {
    throw Errors.doesNotExist(`Patch baseline ${id} does not exist. AWS-provided baselines are addressed by their full ARN: ${awsShort.BaselineId}.`);
  }
  if (OWN_ID.test(id)) return { owner: 'Self', id };
  const arn = /^arn:aws:ssm:([a-z0-9-]+):(\d{12}):patchbaseline\/(pb-[0-9a-f]{17})$/.exec(id);
  if (arn) {
    if (arn[1] === app.config.region && arn[2] === app.config.accountId) return { owner: 'Self', id: arn[3]! };
    throw Errors.doesNotExist(`Patch baseline ${id} does not exist.`);
  }
  throw Errors.invalidResourceId(`Invalid patch baseline id '${id}': expected pb- followed by 17 hexadecimal characters, or a patch baseline ARN.`);
}

export function baselineFromRow(row: BaselinesTable): Baseline {
  const doc = JSON.parse(row.document) as Omit<BaselineDefinition, 'Name' | 'OperatingSystem' | 'Description'>;
  const b: Baseline = {
    ...doc,
    BaselineId: row.baseline_id,
    Name: row.name,
    OperatingSystem: row.operating_system,
    owner: 'Self',
    CreatedDate: row.created_at,
    ModifiedDate: row.modified_at,
  };
  if (row.description !== null) b.Description = row.description;
  return b;
}

/** The stored JSON document of a definition (everything but the columns Name, OperatingSystem, Description). */
export function definitionDocument(def: BaselineDefinition): string {
  const { Name: _n, OperatingSystem: _o, Description: _d, ...rest } = def;
  return JSON.stringify(rest);
}

export async function findBaseline(app: App, id: string, db?: Db): Promise<Baseline | undefined> {
  const ref = parseBaselineId(app, id);
  if (ref.owner === 'AWS') return ref.baseline;
  const row = await app.store.getBaseline(ref.id, db);
  return row ? baselineFromRow(row) : undefined;
}

/** Loads a baseline or throws DoesNotExistException / InvalidResourceId. */
export async function loadBaseline(app: App, id: string, db?: Db): Promise<Baseline> {
  const baseline = await findBaseline(app, id, db);
  if (baseline === undefined) throw Errors.doesNotExist(`Patch baseline ${id} does not exist.`);
  return baseline;
}

/** The default baseline id per operating system: the registered one, else AWS's. */
export async function defaultBaselineIds(app: App, db?: Db): Promise<Map<string, string>> {
  const registered = await app.store.getDefaultBaselineIds(db);
  const out = new Map<string, string>();
  for (const os of app.predefined.operatingSystems()) out.set(os, registered.get(os) ?? app.predefined.defaultFor(os).BaselineId);
  return out;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Epoch milliseconds → the wire's epoch seconds (fractions kept). */
export function toEpochSeconds(ms: number): number {
  return ms / 1000;
}
