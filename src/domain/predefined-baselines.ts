// The AWS-provided baselines, one or more per operating system, with AWS's real ARNs for the configured region
// (src/generated/default-baseline-arns.json). They are read-only; each OS's `osDefault` one is that OS's default
// until the operator registers another.

import { createHash } from 'node:crypto';
import baselineData from '../generated/predefined-baselines.json' with { type: 'json' };
import arnData from '../generated/default-baseline-arns.json' with { type: 'json' };
import type { Baseline, BaselineDefinition } from './baseline.ts';

interface PredefinedEntry extends BaselineDefinition {
  baselineIdKnown: boolean;
  confidence: string;
  osDefault: boolean;
}

const entries = (baselineData as unknown as { baselines: PredefinedEntry[] }).baselines;
const arns = arnData as unknown as Record<string, Record<string, string>>;

/** When AWS created its baselines is not public; a fixed date keeps answers stable. */
const PREDEFINED_CREATED = Date.UTC(2016, 11, 1);

export function knownRegions(): string[] {
  return Object.keys(arns).filter((k) => !k.startsWith('$'));
}

export class PredefinedBaselines {
  readonly #all: Baseline[];
  readonly #byId = new Map<string, Baseline>();
  readonly #byShortId = new Map<string, Baseline>();
  readonly #defaults = new Map<string, Baseline>();

  constructor(region: string) {
    // Regions missing from AWS's table (e.g. a private name) reuse us-east-1's ids under their own region name.
    const table = arns[region] ?? arns['us-east-1']!;
    this.#all = entries.map((e) => {
      const known = table[e.OperatingSystem];
      const account = (known ?? table.WINDOWS!).split(':')[4]!;
      const id = e.osDefault && known
        ? known.replace(/^arn:aws:ssm:[^:]+:/, `arn:aws:ssm:${region}:`)
        : `arn:aws:ssm:${region}:${account}:patchbaseline/pb-${createHash('sha256').update(`${region}/${e.Name}`).digest('hex').slice(0, 17)}`;
      const { baselineIdKnown: _k, confidence: _c, osDefault: _d, ...definition } = e;
      const baseline: Baseline = { ...definition, BaselineId: id, owner: 'AWS', CreatedDate: PREDEFINED_CREATED, ModifiedDate: PREDEFINED_CREATED };
      if (baseline.Description === null || baseline.Description === undefined) {
        baseline.Description = e.OperatingSystem === 'WINDOWS' ? `${e.Name.replace(/^AWS-/, '')} patch baseline provided by AWS.` : `Default Patch Baseline for ${e.OperatingSystem} Provided by AWS.`;
      }
      if (e.osDefault) this.#defaults.set(e.OperatingSystem, baseline);
      return baseline;
    });
    for (const b of this.#all) {
      this.#byId.set(b.BaselineId, b);
      this.#byShortId.set(b.BaselineId.slice(b.BaselineId.lastIndexOf('/') + 1), b);
    }
  }

  all(): Baseline[] {
    return this.#all;
  }

  byId(id: string): Baseline | undefined {
    return this.#byId.get(id);
  }

  /** Finds an AWS baseline by its bare `pb-…` id (AWS itself requires the ARN; used for a helpful message). */
  byShortId(id: string): Baseline | undefined {
    return this.#byShortId.get(id);
  }

  operatingSystems(): string[] {
    return [...this.#defaults.keys()];
  }

  defaultFor(os: string): Baseline {
    const b = this.#defaults.get(os);
    if (b === undefined) throw new Error(`no AWS-provided default baseline for ${os}`);
    return b;
  }
}
