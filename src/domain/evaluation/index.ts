// Patchline's own patch evaluation engine: compile a baseline once, then turn each node's raw package scan
// into AWS-style per-patch states and counters. See docs/evaluation.md.

export type {
  CompiledBaseline, DecisionCache, EvaluatedRow, InstalledDecision, NodeEvaluation, NodeScan, ScanPackage, UpdateDecision,
} from './types.ts';
export { compileBaseline, higherComplianceLevel, untilDateExclusive } from './compile-baseline.ts';
export { createDecisionCache, DecisionMemo, packageKey, type DecisionCacheKeying } from './decision-cache.ts';
export { evaluateNode } from './evaluate-node.ts';
export { isPreparedScan, prepareScan, type PreparedScan } from './prepare-scan.ts';
export { PackageIndex, type PackageIndexKeying } from './package-index.ts';
export { compilePatchList, normalizeKb, rpmSpellings, type PatchListMatcher } from './patch-lists.ts';
export { patchClassification, patchKbId, patchSeverity, patchTitle, withEpoch } from './row-format.ts';
