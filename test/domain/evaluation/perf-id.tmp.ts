import './perf-probe.tmp.ts';
