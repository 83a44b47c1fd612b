// What the fleet-wide counters count for one node (Patchline.GetFleetSummary, Patchline.ListNodes; docs/console.md).
// Pure: the store keeps the counters on write (src/store/reporting-store.ts) and recomputes them with these same
// rules (src/store/fleet-counters.ts, `patchline verify`).

import type { Counters, PatchRow, PatchState } from './patch-state.ts';

/** Row states that make a patch "missing" on a node for MostMissingPatches. */
export const MISSING_STATES: ReadonlySet<PatchState> = new Set<PatchState>(['Missing', 'Failed']);

/** The KBIds of a node's Missing and Failed rows (each counted once per node). */
export function missingKbIds(rows: readonly Pick<PatchRow, 'KBId' | 'State'>[]): Set<string> {
  const out = new Set<string>();
  for (const r of rows) if (MISSING_STATES.has(r.State)) out.add(r.KBId);
  return out;
}

/**
 * A reported node is NON_COMPLIANT when its last report counts a non-compliant patch: every non-compliant patch
 * counts as Critical, Security or Other (semantics §3.1), so the sum of the three is > 0 exactly then.
 */
export function isNonCompliantNode(c: Pick<Counters, 'CriticalNonCompliantCount' | 'SecurityNonCompliantCount' | 'OtherNonCompliantCount'>): boolean {
  return c.CriticalNonCompliantCount + c.SecurityNonCompliantCount + c.OtherNonCompliantCount > 0;
}

/** The change a node's move from `before` to `after` makes to per-key node counts (+1 added, -1 removed). */
export function setDelta(before: ReadonlySet<string> | undefined, after: ReadonlySet<string> | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of after ?? []) if (!before?.has(k)) out.set(k, 1);
  for (const k of before ?? []) if (!after?.has(k)) out.set(k, -1);
  return out;
}
