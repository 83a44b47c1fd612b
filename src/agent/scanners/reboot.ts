// The running-versus-installed kernel signal shared by the scanners: a reboot is pending when a kernel newer
// than the running one is installed. It clears by itself after the reboot. When the running kernel is not one
// of the installed ones (containers, custom or hypervisor-supplied kernels) nothing can be concluded: false.

import type { Host } from '../host.ts';

/** Natural order of kernel release strings (5.10.0-28-amd64 < 5.10.0-30-amd64 < 6.1.0-9-amd64). */
export function compareKernelReleases(a: string, b: string): number {
  const split = (s: string) => s.match(/\d+|[^\d]+/g) ?? [];
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) {
      const d = Number(p) - Number(q);
      if (d !== 0) return d < 0 ? -1 : 1;
    } else if (p !== q) {
      return p < q ? -1 : 1;
    }
  }
  return 0;
}

/** `installed`: kernel releases from the package database; /boot/vmlinuz-* is used when it is empty. */
export function kernelRebootPending(host: Host, installed: string[]): boolean {
  const running = host.kernelRelease();
  const releases = installed.length > 0
    ? installed
    : host.listDir('/boot').map((f) => /^vmlinuz-(.+)$/.exec(f)?.[1]).filter((r): r is string => r !== undefined);
  if (!releases.includes(running)) return false;
  return releases.some((r) => compareKernelReleases(r, running) > 0);
}
