// What a managed node's own access key may do: only the operations listed here, and only on its own node.
// Every other operation, and any request naming another node, is AccessDeniedException. Admin keys may do all.

/** For each operation a node key may call: the node ids the request acts on. */
export const NODE_OPERATIONS: Record<string, (input: any) => string[]> = {
  // Report: the AWS agent's channel and Patchline's raw scan report.
  PutInventory: (input) => [String(input.InstanceId)],
  'Patchline.PutScanReport': (input) => [String(input.InstanceId)],
  // Fetch the node's baseline snapshot before installing.
  GetDeployablePatchSnapshotForInstance: (input) => [String(input.InstanceId)],
  'Patchline.GetPatchSnapshot': (input) => [String(input.InstanceId)],
};

/** The node ids a request touches if a node key may call it, else undefined (admin only). */
export function nodeScope(operation: string, input: unknown): string[] | undefined {
  return NODE_OPERATIONS[operation]?.(input);
}
