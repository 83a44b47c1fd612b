// Every operation Patchline serves, by name. Each API area declares its handlers in its own module.

import type { OperationTable } from '../server/operation.ts';
import { baselineOperations } from './baselines.ts';
import { patchGroupOperations } from './patch-groups.ts';
import { tagOperations } from './tags.ts';
import { patchPropertyOperations } from './patch-properties.ts';
import { inventoryOperations } from './inventory.ts';
import { patchStateOperations } from './patch-states.ts';
import { complianceOperations } from './compliance.ts';
import { nodeOperations } from './nodes.ts';
import { historyOperations } from './history.ts';
import { activationOperations } from './activations.ts';
import { scanReportOperations } from './scan-report.ts';
import { agentDownloadOperations } from './agent-download.ts';
import { cveOperations } from './cves.ts';
import { catalogueOperations } from './catalogue.ts';
import { snapshotOperations } from './snapshots.ts';
import { consoleOperations } from './console.ts';

export const allOperations: OperationTable = {
  ...baselineOperations,
  ...patchGroupOperations,
  ...tagOperations,
  ...patchPropertyOperations,
  ...inventoryOperations,
  ...patchStateOperations,
  ...complianceOperations,
  ...nodeOperations,
  ...historyOperations,
  ...activationOperations,
  ...scanReportOperations,
  ...agentDownloadOperations,
  ...cveOperations,
  ...catalogueOperations,
  ...snapshotOperations,
  ...consoleOperations,
};
