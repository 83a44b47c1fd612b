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
}

/** A node's patch rows, compressed (see src/domain/patch-rows.ts for the encoding). */
export interface NodePatchesTable {
  instance_id: string;
  report_seq: number;
  row_count: number;
  data: Buffer;
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
  /** The prepared scan: package-dictionary ids per entry (src/store/scan-store.ts). */
  data: Buffer;
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
}
