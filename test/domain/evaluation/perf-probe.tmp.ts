import { PredefinedBaselines } from '../../../src/domain/predefined-baselines.ts';
import { compileBaseline, evaluateNode, createDecisionCache, prepareScan } from '../../../src/domain/evaluation/index.ts';
import type { NodeScan, ScanPackage } from '../../../src/domain/evaluation/index.ts';
const b = new PredefinedBaselines('us-east-1').defaultFor('AMAZON_LINUX_2023');
const c = compileBaseline(b);
let seed = 1; const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const NAMES = 1500;
const inst: ScanPackage[][] = []; const upd: ScanPackage[][] = [];
for (let k = 0; k < NAMES; k++) {
  const name = `pkg${k}`;
  inst.push([0,1,2].map(v => ({ name, arch: 'x86_64', version: `1.${v}-1.amzn2023`, installedTime: 1_700_000_000, classification: v===0?undefined:'Bugfix' })));
  upd.push([0,1].map(v => ({ name, arch: 'x86_64', version: `2.${v}-1.amzn2023`, classification: rnd()<0.5?'Security':'Bugfix', severity: ['Critical','Important','Medium','Low'][Math.floor(rnd()*4)], releaseTime: 1_700_000_000 + Math.floor(rnd()*40)*86400, cveIds: ['CVE-2024-1'] })));
}
const nodes: NodeScan[] = [];
for (let n = 0; n < 2000; n++) {
  const installed: ScanPackage[] = []; const updates: ScanPackage[] = [];
  const start = Math.floor(rnd()*NAMES);
  for (let k = 0; k < 500; k++) { const idx = (start + k) % NAMES; installed.push(inst[idx]![Math.floor(rnd()*3)]!); if (rnd() < 0.2) updates.push(upd[idx]![Math.floor(rnd()*2)]!); }
  nodes.push({ operatingSystem: 'AMAZON_LINUX_2023', product: 'AmazonLinux2023', operation: 'Scan', rebootPending: false, installed, updates, failed: [], pendingReboot: [] });
}
const now = 1_703_000_000;
import { readFileSync } from 'node:fs';
function threadCpu(): number { const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'); const rest = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(rest[11]) + Number(rest[12])) / 100; }
function run(label: string, f: (from: number, to: number) => void) {
  { for (let w=0; w<3; w++) f(0, 2000); const c0 = threadCpu(); for (let r=0;r<5;r++) f(0,2000); const cpu = threadCpu()-c0; console.log(label.padEnd(20), 'main-thread cpu', (10000/cpu).toFixed(0), 'nodes/cpu-s'); }
  for (let w=0; w<3; w++) f(0, 2000);
  let bestChunk = 1e9; const t0 = performance.now();
  for (let r=0;r<5;r++) for (let c=0;c<2000;c+=100){ const t=performance.now(); f(c, c+100); bestChunk=Math.min(bestChunk, performance.now()-t);} 
  const total = performance.now()-t0;
  console.log(label.padEnd(20), 'overall', (10000/(total/1000)).toFixed(0).padStart(6), 'best-chunk', (100/(bestChunk/1000)).toFixed(0).padStart(6), 'nodes/s');
}
const prepared = nodes.map((n) => prepareScan(n));
import { PackageIndex } from '../../../src/domain/evaluation/index.ts';
const pix = new PackageIndex('content');
const preparedIdx = nodes.map((n) => prepareScan(n, pix));
let cx = createDecisionCache(c); run('prepared+index', (a,b) => { if (a===0) cx = createDecisionCache(c); for (let i=a;i<b;i++) evaluateNode(preparedIdx[i]!, c, now, cx); });
if (process.env.ONLY_IDX) process.exit(0);
const memoI = () => createDecisionCache(c, {keying:'identity'});
let ci = memoI(); run('prepared+identity', (a,b) => { if (a===0) ci = memoI(); for (let i=a;i<b;i++) evaluateNode(prepared[i]!, c, now, ci); });
if (!process.env.ONLY_ID) { let cc = createDecisionCache(c); run('prepared+content', (a,b) => { if (a===0) cc = createDecisionCache(c); for (let i=a;i<b;i++) evaluateNode(prepared[i]!, c, now, cc); });
let cr = memoI(); run('raw+identity', (a,b) => { if (a===0) cr = memoI(); for (let i=a;i<b;i++) evaluateNode(nodes[i]!, c, now, cr); });
run('prepared no cache', (a,b) => { for (let i=a;i<b;i++) evaluateNode(prepared[i]!, c, now); }); }
