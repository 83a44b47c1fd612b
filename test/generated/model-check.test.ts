// The committed files under src/generated/ must be exactly what scripts/generate-model.ts produces from the
// reference model, and model/operations.json may only name operations the AWS model defines.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import generated from '../../src/generated/ssm-model.json' with { type: 'json' };

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const referenceModel = process.env.PATCHLINE_SSM_MODEL ?? fileURLToPath(new URL('../../../shared/reference/ssm-service-2.json', import.meta.url));
const skipWithoutReference = existsSync(referenceModel) ? false : `reference model not found at ${referenceModel}`;

const operations = JSON.parse(readFileSync(new URL('../../model/operations.json', import.meta.url), 'utf8')) as unknown;

test('npm run generate -- --check reports the generated files up to date', { skip: skipWithoutReference }, () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/generate-model.ts', '--check'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  assert.equal(run.status, 0, `generate-model --check failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /up to date/);
});

test('model/operations.json names only operations of the AWS model', { skip: skipWithoutReference }, () => {
  assert.ok(Array.isArray(operations));
  const aws = JSON.parse(readFileSync(referenceModel, 'utf8')) as { operations: Record<string, unknown> };
  const missing = (operations as string[]).filter((op) => aws.operations[op] === undefined);
  assert.deepEqual(missing, []);
});

test('model/operations.json matches the generated model', () => {
  assert.ok(Array.isArray(operations));
  const list = operations as string[];
  assert.equal(new Set(list).size, list.length, 'duplicate operation');
  const all = new Set(generated.allOperations);
  for (const op of list) {
    assert.ok(all.has(op), `${op} is not an AWS operation`);
    assert.ok(Object.hasOwn(generated.operations, op), `${op} is missing from src/generated/ssm-model.json`);
  }
  const awsKeys = Object.keys(generated.operations).filter((k) => !k.includes('.'));
  assert.deepEqual(awsKeys.sort(), [...list].sort());
});

test('the generated model carries no documentation and resolves every shape reference', () => {
  const shapes = generated.shapes as Record<string, Record<string, unknown>>;
  const text = JSON.stringify(generated);
  assert.equal(text.includes('"documentation"'), false);
  const refs = (shape: Record<string, unknown>): string[] => {
    const out: string[] = [];
    for (const key of ['member', 'key', 'value']) {
      const ref = shape[key] as { shape?: string } | undefined;
      if (ref?.shape !== undefined) out.push(ref.shape);
    }
    for (const ref of Object.values((shape.members ?? {}) as Record<string, { shape: string }>)) out.push(ref.shape);
    return out;
  };
  for (const [name, shape] of Object.entries(shapes)) {
    for (const ref of refs(shape)) assert.ok(shapes[ref] !== undefined, `${name} → ${ref}`);
  }
  for (const [name, op] of Object.entries(generated.operations as Record<string, { input?: string; output?: string; errors: string[] }>)) {
    for (const ref of [op.input, op.output, ...op.errors]) if (ref !== undefined) assert.ok(shapes[ref] !== undefined, `${name} → ${ref}`);
  }
});
