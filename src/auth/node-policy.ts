// What a managed node's own access key may do: only the operations listed here, and only on its own node.
// Every other operation, and any request naming another node, is AccessDeniedException. Admin keys may do all.

/** For each operation a node key may call: the node ids the request acts on. */
export const NODE_OPERATIONS: Record<string, (input: any) => string[]> = {};

/** The node ids a request touches if a node key may call it, else undefined (admin only). */
export function nodeScope(operation: string, input: unknown): string[] | undefined {
  return NODE_OPERATIONS[operation]?.(input);
}
