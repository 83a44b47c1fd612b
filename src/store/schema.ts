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

export interface DatabaseSchema {
  meta: MetaTable;
  access_keys: AccessKeysTable;
  baselines: BaselinesTable;
  default_baselines: DefaultBaselinesTable;
  patch_group_baselines: PatchGroupBaselinesTable;
  tags: TagsTable;
}
