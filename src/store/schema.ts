import type { Generated } from 'kysely';

// Table types for Kysely. Times are epoch milliseconds (bigint), booleans are 0/1 integers and structured
// documents are JSON text, so that one schema serves SQLite and PostgreSQL alike.
// Per-node tables lead with instance_id so that a distributed PostgreSQL (Citus, YugabyteDB, CockroachDB)
// can shard them by node.

export interface MetaTable {
  key: string;
  value: string;
}

export interface AccessKeysTable {
  access_key_id: string;
  /** AES-256-GCM ciphertext of the secret under the server's master key (see src/auth/master-key.ts). */
  secret_ciphertext: string;
  /** 'admin' keys may call every operation; 'node' keys only act on their own managed node. */
  kind: 'admin' | 'node';
  instance_id: string | null;
  label: string | null;
  created_at: number;
  revoked_at: number | null;
}

export interface BaselinesTable {
  baseline_id: string;
  name: string;
  operating_system: string;
  description: string | null;
  /** The baseline definition as JSON (GlobalFilters, ApprovalRules, lists, options, Sources). */
  document: string;
  created_at: number;
  modified_at: number;
  client_token: string | null;
  /** Hash of the normalised CreatePatchBaseline request, for ClientToken idempotency. */
  request_hash: string | null;
}

export interface DefaultBaselinesTable {
  operating_system: string;
  baseline_id: string;
}

export interface PatchGroupBaselinesTable {
  patch_group: string;
  operating_system: string;
  baseline_id: string;
  registered_at: number;
}

export interface TagsTable {
  resource_type: string;
  resource_id: string;
  tag_key: string;
  tag_value: string;
}

export interface NodesTable {
  instance_id: string;
  /** ManagedInstance (mi-…) or EC2Instance (i-…). */
  resource_type: string;
  name: string | null;
  computer_name: string | null;
  ip_address: string | null;
  platform_type: string | null;
  platform_name: string | null;
  platform_version: string | null;
  agent_version: string | null;
  activation_id: string | null;
  iam_role: string | null;
  registration_date: number | null;
  source_id: string | null;
  source_type: string | null;
  /** The node's patch group from its tags (`Patch Group`, else `PatchGroup`); null without one. */
  patch_group_tag: string | null;
  created_at: number;
  last_ping_at: number | null;
}

/** The per-node patch counters, named as in InstancePatchState (snake_case). */
export interface PatchCounters {
  installed: number;
  installed_other: number;
  installed_pending_reboot: number;
  installed_rejected: number;
  missing: number;
  failed: number;
  not_applicable: number;
  unreported_not_applicable: number;
  available_security_update: number;
  critical_non_compliant: number;
  security_non_compliant: number;
  other_non_compliant: number;
}

/** A node's latest patch summary (AWS:PatchSummary / InstancePatchState). */
export interface NodePatchStateTable extends PatchCounters {
  instance_id: string;
  /** Increases with every report of the node; keys caches of its patch rows. */
  report_seq: number;
  /** The patch group the node was in when it reported ('' for none); groups count nodes by this value. */
  patch_group: string;
  baseline_id: string;
  snapshot_id: string | null;
  owner_information: string | null;
  install_override_list: string | null;
  operation: string;
  operation_start: number;
  operation_end: number;
  reboot_option: string | null;
  last_no_reboot_install: number | null;
  summary_hash: string | null;
  patches_hash: string | null;
  capture_time: string | null;
  /** 'inventory' (PutInventory) or 'scan' (evaluated by Patchline from a raw scan). */
  source: string;
  reported_at: number;
  /** 1 when the report counts a non-compliant patch (src/domain/fleet.ts isNonCompliantNode), else 0. */
  non_compliant: number;
}

/** A node's patch rows: a reference to the row set that holds them (src/domain/row-set.ts). */
export interface NodePatchesTable {
  instance_id: string;
  report_seq: number;
  row_count: number;
  /** patch_row_sets.digest */
  row_set: string;
  /**
   * The node's installed times, 4 bytes a row (installedTimesOf), when they differ from the set's; else null. Null
   * for a scan-timed set (patch_row_sets.timed_packages): the node's times are those of its stored scan.
   */
  installed_times: Buffer | null;
}

/**
 * Patch rows, stored once however many nodes have them (src/domain/patch-rows.ts for the encoding), addressed by
 * their content (`data` holds the installed times of the node that stored the set; nodes of the same outcome with
 * other times refer to it too and keep their own). A set lives while a node refers to it: the write that takes the
 * last reference away deletes it.
 */
export interface PatchRowSetsTable {
  digest: string;
  /** The digest of the encoding with installed times 0 (RowSet.shape): sets of one outcome share it. */
  shape: string;
  row_count: number;
  data: Buffer;
  /**
   * Sets evaluated from scans: per row, 4 bytes (int32 LE), the scan-dictionary id of the installed package whose
   * installed time the row shows (-1: none); the installed times in `data` are 0. Null for sets stored from reports.
   */
  timed_packages: Buffer | null;
  created_at: number;
}

/** The CVE ids listed by a row set's Missing/Failed rows (Patchline.DescribeInstancesForCve), written with the set. */
export interface PatchRowSetCvesTable {
  row_set: string;
  cve_id: string;
}

type WithCounters = { [K in keyof PatchCounters as `with_${K}`]: number };

/** Node counts per patch group, split into shards so concurrent writers rarely touch the same row. */
export interface PatchGroupCountsTable extends WithCounters {
  patch_group: string;
  shard: number;
  instances: number;
}

export interface PatchGroupHistoryTable extends WithCounters {
  patch_group: string;
  /** Start of the time bucket, epoch ms. */
  bucket: number;
  instances: number;
}

export type SeverityName = 'critical' | 'high' | 'medium' | 'low' | 'informational' | 'unspecified';
export type SeverityCounts = { [K in SeverityName as `compliant_${K}` | `non_compliant_${K}`]: number };

/** One node's summary for one compliance type (ListResourceComplianceSummaries). Counts are items. */
export interface ResourceComplianceTable extends SeverityCounts {
  instance_id: string;
  compliance_type: string;
  status: string;
  overall_severity: string;
  execution_time: number;
  execution_id: string | null;
  execution_type: string | null;
  items_hash: string | null;
  updated_at: number;
}

/** Stored compliance items of a node and type (PutComplianceItems, AWS:ComplianceItem). */
export interface ComplianceItemsTable {
  instance_id: string;
  compliance_type: string;
  item_count: number;
  data: Buffer;
}

/** Nodes per compliance type, bucketed by status and overall severity (ListComplianceSummaries), sharded. */
export interface ComplianceTypeCountsTable extends SeverityCounts {
  compliance_type: string;
  shard: number;
}

/** Inventory types other than the patch report (Custom:…, AWS:InstanceInformation, …), entries compressed. */
export interface InventoryItemsTable {
  instance_id: string;
  type_name: string;
  schema_version: string;
  capture_time: string;
  content_hash: string | null;
  entry_count: number;
  data: Buffer;
  context: string | null;
  updated_at: number;
}

export interface NodeHistoryTable {
  instance_id: string;
  reported_at: number;
  report_seq: number;
  patch_group: string;
  /** JSON of the InstancePatchState counters and operation. */
  summary: string;
}

/** Hybrid activations (CreateActivation): the code is stored encrypted, as it is the SigV4 secret of registration. */
export interface ActivationsTable {
  activation_id: string;
  code_ciphertext: string;
  description: string | null;
  default_instance_name: string | null;
  iam_role: string;
  registration_limit: number;
  registrations_count: number;
  expiration_date: number;
  created_date: number;
  /** JSON array of {Key, Value}, applied to every node registered with the activation. */
  tags: string;
}

/** Shared values that per-node data refers to by id (see src/store/descriptors.ts). */
export interface PatchDescriptorsTable {
  id: Generated<number>;
  key: string;
  /** JSON of the value. */
  data: string;
}

/** A node's latest raw scan (Patchline.PutScanReport), kept so the server can re-evaluate it at any time. */
export interface NodeScansTable {
  instance_id: string;
  scan_seq: number;
  operating_system: string;
  product: string;
  operation: string;
  operation_start: number;
  operation_end: number;
  snapshot_id: string | null;
  reboot_option: string | null;
  last_no_reboot_install: number | null;
  received_at: number;
  /** 1 while the node's evaluation is out of date (dirty_seq > evaluated_seq). */
  dirty: number;
  dirty_seq: number;
  evaluated_seq: number;
  evaluated_at: number | null;
  evaluated_baseline_id: string | null;
  /** When a delayed approval (ApproveAfterDays) next changes this node's evaluation. */
  next_change_at: number | null;
  /** A server evaluating the node holds it until then (several servers share the work). */
  claimed_until: number | null;
  /**
   * The stored scan's fingerprint (ScanStore.fingerprint: everything but installed times); null until known (scans
   * stored before migration 0011 get it at their next evaluation). Nodes with the same key evaluate to the same
   * rows (their times are read from their own scans): re-evaluation reads the scan of one of them only.
   */
  scan_key: string | null;
}

/**
 * The prepared scan of each node (package-dictionary ids per entry, src/store/scan-store.ts), apart from node_scans
 * so that evaluation bookkeeping (marking, claiming, finishing) never rewrites the scan's kilobytes.
 */
export interface NodeScanDataTable {
  instance_id: string;
  data: Buffer;
}

/** A node's scan row with its data, as the scan store hands it out. */
export type StoredScanRow = NodeScansTable & { data: Buffer };

/** The patch catalogue: update candidates reported by scans, per product (DescribeAvailablePatches). */
export interface CataloguePatchesTable {
  product: string;
  /** The package version in the shared package dictionary (patch_descriptors). */
  package_id: number;
  operating_system: string;
  first_seen: number;
  /** Refreshed at most once an hour per entry (so scans of one product rarely write the same rows). */
  last_seen: number;
}

/** A deployable snapshot's frozen baseline, shared by every node of one run (GetDeployablePatchSnapshotForInstance). */
export interface PatchSnapshotsTable {
  snapshot_id: string;
  /** The node's patch group ('' for none). */
  patch_group: string;
  operating_system: string;
  /** '' for the node's resolved baseline; 'override:<sha256>' for a BaselineOverride. */
  baseline_source: string;
  /** The node whose call created the snapshot. */
  instance_id: string;
  created_at: number;
  /** JSON of the frozen baseline definition. */
  baseline: string;
}

/** The snapshot document handed to one node (Patchline.GetPatchSnapshot, the presigned download URL). */
export interface PatchSnapshotNodesTable {
  snapshot_id: string;
  instance_id: string;
  patch_group: string;
  operating_system: string;
  baseline_source: string;
  /** The shared snapshot's creation time. */
  created_at: number;
  /** When this node's document was last issued. */
  issued_at: number;
  /** JSON of the snapshot document (docs/api.md). */
  document: string;
}

/** One imported advisory record (src/domain/advisories/advisory.ts `Advisory`); `key` is Advisory.key. */
export interface AdvisoriesTable {
  key: string;
  id: string;
  source: string;
  /** rpm | dpkg | apk: the version scheme of the fixed versions. */
  family: string;
  distribution: string | null;
  classification: string;
  severity: string | null;
  title: string | null;
  /** Epoch ms. */
  issued: number | null;
  updated: number | null;
  /** Comma-separated CVE ids ('' for none). */
  cve_ids: string;
  /** Comma-separated Bugzilla ids ('' for none). */
  bugzilla_ids: string;
  /** JSON of the rest of the record (description, vendorSeverity, references, unfixedPackages, rebootSuggested). */
  data: string;
  /** Hash of the whole record: a re-import of an unchanged record writes nothing. */
  content_hash: string;
  imported_at: number;
}

/** One fixed package build of an advisory (Advisory.packages): what labelling matches scan candidates against. */
export interface AdvisoryPackagesTable {
  advisory_key: string;
  family: string;
  name: string;
  source_name: string | null;
  distribution: string | null;
  fixed_version: string;
  /** OSV multi-range records: the version the fixed range starts at. */
  introduced_version: string | null;
  arch: string | null;
  /** JSON of the other package fields (epoch, version, release, ecosystem, module, filename), or null. */
  data: string | null;
}

/** A web console session (docs/console.md). Only hashes of the cookie token and of the CSRF token are stored. */
export interface ConsoleSessionsTable {
  /** SHA-256 (hex) of the session token the cookie carries. */
  token_hash: string;
  /** The admin key that signed CreateConsoleSession: the session's principal. */
  access_key_id: string;
  /** SHA-256 (hex) of the CSRF token. */
  csrf_hash: string;
  created_at: number;
  last_used_at: number;
  /** Absolute expiry (creation + 8 hours); idle expiry is last_used_at + 30 minutes. */
  expires_at: number;
}

/** Fleet-wide node counts per shard (Patchline.GetFleetSummary): registered nodes, non-compliant reported nodes. */
export interface FleetCountsTable {
  shard: number;
  nodes: number;
  non_compliant: number;
}

/** Nodes with a Missing or Failed row for a KBId, per shard (MostMissingPatches); rows at 0 are deleted. */
export interface MissingPatchCountsTable {
  kb_id: string;
  shard: number;
  nodes: number;
}

/** Nodes whose Missing/Failed rows list a CVE (their row set's patch_row_set_cves), per shard (MostExposedCves); rows at 0 are deleted. */
export interface CveCountsTable {
  cve_id: string;
  shard: number;
  nodes: number;
}

export interface DatabaseSchema {
  meta: MetaTable;
  access_keys: AccessKeysTable;
  baselines: BaselinesTable;
  default_baselines: DefaultBaselinesTable;
  patch_group_baselines: PatchGroupBaselinesTable;
  tags: TagsTable;
  nodes: NodesTable;
  node_patch_state: NodePatchStateTable;
  node_patches: NodePatchesTable;
  patch_row_sets: PatchRowSetsTable;
  patch_row_set_cves: PatchRowSetCvesTable;
  patch_group_counts: PatchGroupCountsTable;
  patch_group_history: PatchGroupHistoryTable;
  resource_compliance: ResourceComplianceTable;
  compliance_items: ComplianceItemsTable;
  compliance_type_counts: ComplianceTypeCountsTable;
  inventory_items: InventoryItemsTable;
  node_history: NodeHistoryTable;
  activations: ActivationsTable;
  patch_descriptors: PatchDescriptorsTable;
  node_scans: NodeScansTable;
  node_scan_data: NodeScanDataTable;
  advisories: AdvisoriesTable;
  advisory_packages: AdvisoryPackagesTable;
  catalogue_patches: CataloguePatchesTable;
  patch_snapshots: PatchSnapshotsTable;
  patch_snapshot_nodes: PatchSnapshotNodesTable;
  console_sessions: ConsoleSessionsTable;
  fleet_counts: FleetCountsTable;
  missing_patch_counts: MissingPatchCountsTable;
  cve_counts: CveCountsTable;
}
