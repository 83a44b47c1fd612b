const pool = Array.from({length: 4500}, (_, i) => ({ name: 'p' + i, arch: 'x', version: '1' }));
const wm = new WeakMap<object, {v: number; rows: object[]}>(); for (const p of pool) wm.set(p, {v: 1, rows: [{}]});
const nodes = Array.from({length: 2000}, () => Array.from({length: 500}, () => pool[Math.floor(Math.random()*pool.length)]!));
function run(label: string, f: () => number) { for (let w=0;w<3;w++) f(); let best=1e9; for (let k=0;k<5;k++){ const t=performance.now(); f(); best=Math.min(best, performance.now()-t);} console.log(label, (2000/(best/1000)).toFixed(0), 'nodes/s'); }
run('loop only', () => { let s=0; for (const n of nodes) { const out = new Array(n.length); for (let i=0;i<n.length;i++) out[i]=n[i]; s+=out.length;} return s; });
run('weakmap get', () => { let s=0; for (const n of nodes) { const out = new Array(n.length); for (let i=0;i<n.length;i++) { const e = wm.get(n[i]!)!; out[i]=e.rows[0]; } s+=out.length;} return s; });
const m = new Map<object, {v: number; rows: object[]}>(); for (const p of pool) m.set(p, {v: 1, rows: [{}]});
run('map get', () => { let s=0; for (const n of nodes) { const out = new Array(n.length); for (let i=0;i<n.length;i++) { const e = m.get(n[i]!)!; out[i]=e.rows[0]; } s+=out.length;} return s; });
run('alloc rows', () => { let s=0; for (const n of nodes) { const out = new Array(n.length); for (let i=0;i<n.length;i++) { const p=n[i]!; out[i]={Title: p.name, KBId: p.arch, Classification: '', Severity: '', State: 'Installed', InstalledTime: 0, ComplianceLevel: 'X', package: p}; } s+=out.length;} return s; });
