// The `http-floor` reference: a bare node:http server (node:cluster workers like `patchline serve`, same keep-alive
// settings) that reads the body and answers every POST with a fixed DescribePatchGroupState-shaped JSON document,
// without verifying signatures or touching a database. Driven exactly like group-state, it measures what this
// machine's loopback, Node's HTTP stack and the driver cost by themselves: the ceiling any Patchline operation can
// reach here. Settings: FLOOR_PORT, FLOOR_WORKERS.

import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

const port = Number(process.env.FLOOR_PORT ?? '0');
const workers = Number(process.env.FLOOR_WORKERS ?? '1');

const ANSWER = JSON.stringify({
  Instances: 1000, InstancesWithInstalledPatches: 1000, InstancesWithInstalledOtherPatches: 640, InstancesWithInstalledPendingRebootPatches: 0,
  InstancesWithInstalledRejectedPatches: 0, InstancesWithMissingPatches: 600, InstancesWithFailedPatches: 450, InstancesWithNotApplicablePatches: 0,
  InstancesWithUnreportedNotApplicablePatches: 0, InstancesWithAvailableSecurityUpdates: 0, InstancesWithCriticalNonCompliantPatches: 300,
  InstancesWithSecurityNonCompliantPatches: 590, InstancesWithOtherNonCompliantPatches: 420,
});

if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 60_000, headersTimeout: 30_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(ANSWER), 'x-amzn-RequestId': randomUUID() });
      res.end(ANSWER);
    });
  });
  server.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}
