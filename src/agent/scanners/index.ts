// Picks the scanner for the detected platform: apt for the Debian family, dnf (else yum) for the RPM family,
// zypper for SUSE, apk for Alpine (scan only: Alpine cannot be reported, docs/agent.md).

import type { Host } from '../host.ts';
import type { Platform } from '../platform.ts';
import { AgentError } from '../errors.ts';
import { AptScanner } from './apt.ts';
import { RpmScanner } from './rpm.ts';
import { ZypperScanner } from './zypper.ts';
import { ApkScanner } from './apk.ts';
import type { Scanner } from './types.ts';

export async function createScanner(platform: Platform, host: Host): Promise<Scanner> {
  switch (platform.family) {
    case 'apt': return new AptScanner(host);
    case 'rpm': {
      if (await host.has('dnf')) return new RpmScanner(host, 'dnf', platform);
      if (await host.has('yum')) return new RpmScanner(host, 'yum', platform);
      throw new AgentError(`${platform.name}: neither dnf nor yum is installed; the agent needs one of them to find updates.`);
    }
    case 'zypper': return new ZypperScanner(host);
    case 'apk': return new ApkScanner(host);
  }
}
