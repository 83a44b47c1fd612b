// Platform detection from /etc/os-release: the AWS OperatingSystem enum value, the name and version the node
// reports, the product when it differs from what the server derives, and the package manager to use.
// Choices (docs/agent.md): Fedora is evaluated as REDHAT_ENTERPRISE_LINUX with its own product name; openSUSE
// Leap as SUSE; Raspberry Pi OS is RASPBIAN also when its os-release says ID=debian (64-bit images) and
// /etc/rpi-issue exists; Alpine has no OperatingSystem value, so it is detected but not reportable.

import type { Host } from './host.ts';
import { AgentError, EXIT } from './errors.ts';

export type OperatingSystem =
  | 'AMAZON_LINUX' | 'AMAZON_LINUX_2' | 'AMAZON_LINUX_2022' | 'AMAZON_LINUX_2023' | 'UBUNTU' | 'DEBIAN' | 'RASPBIAN'
  | 'REDHAT_ENTERPRISE_LINUX' | 'CENTOS' | 'ORACLE_LINUX' | 'ROCKY_LINUX' | 'ALMA_LINUX' | 'SUSE';

export type PackageManagerFamily = 'apt' | 'rpm' | 'zypper' | 'apk';

export interface Platform {
  /** undefined for a system the AWS model has no value for (Alpine). */
  operatingSystem: OperatingSystem | undefined;
  name: string;
  version: string;
  product?: string;
  family: PackageManagerFamily;
  /** os-release ID. */
  id: string;
}

export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    }
    out[line.slice(0, eq)] = value;
  }
  return out;
}

export function detectPlatform(host: Host): Platform {
  const text = host.readFile('/etc/os-release') ?? host.readFile('/usr/lib/os-release');
  if (text === undefined) throw new AgentError('Cannot identify this system: neither /etc/os-release nor /usr/lib/os-release exists.', EXIT.failure);
  const os = parseOsRelease(text);
  const id = (os.ID ?? '').toLowerCase();
  const like = (os.ID_LIKE ?? '').toLowerCase().split(/\s+/);
  const versionId = os.VERSION_ID ?? '';
  const name = os.NAME ?? os.PRETTY_NAME ?? id;
  const base = { name, version: versionId, id };
  switch (id) {
    case 'debian': {
      // /etc/debian_version holds the point release (12.11); VERSION_ID only the major version.
      const point = host.readFile('/etc/debian_version')?.trim() ?? '';
      const version = /^\d+(\.\d+)*$/.test(point) && point.split('.')[0] === versionId ? point : versionId;
      const raspbian = host.exists('/etc/rpi-issue');
      return { ...base, version, operatingSystem: raspbian ? 'RASPBIAN' : 'DEBIAN', family: 'apt' };
    }
    case 'raspbian': return { ...base, operatingSystem: 'RASPBIAN', family: 'apt' };
    case 'ubuntu': return { ...base, operatingSystem: 'UBUNTU', family: 'apt' };
    case 'amzn': {
      const os2: OperatingSystem = versionId === '2' ? 'AMAZON_LINUX_2' : versionId === '2022' ? 'AMAZON_LINUX_2022' : versionId.startsWith('2023') ? 'AMAZON_LINUX_2023' : 'AMAZON_LINUX';
      return { ...base, operatingSystem: os2, family: 'rpm' };
    }
    case 'rhel': return { ...base, operatingSystem: 'REDHAT_ENTERPRISE_LINUX', family: 'rpm' };
    case 'centos': return { ...base, operatingSystem: 'CENTOS', family: 'rpm' };
    case 'ol': return { ...base, operatingSystem: 'ORACLE_LINUX', family: 'rpm' };
    case 'rocky': return { ...base, operatingSystem: 'ROCKY_LINUX', family: 'rpm' };
    case 'almalinux': return { ...base, operatingSystem: 'ALMA_LINUX', family: 'rpm' };
    case 'fedora': return { ...base, operatingSystem: 'REDHAT_ENTERPRISE_LINUX', product: `Fedora${versionId}`, family: 'rpm' };
    case 'sles': case 'sled': case 'sle-micro': return { ...base, operatingSystem: 'SUSE', family: 'zypper' };
    case 'opensuse-leap': return { ...base, operatingSystem: 'SUSE', family: 'zypper' };
    case 'alpine': return { ...base, operatingSystem: undefined, family: 'apk' };
    default:
      if (like.includes('ubuntu')) return { ...base, version: os.UBUNTU_VERSION_ID ?? versionId, operatingSystem: 'UBUNTU', family: 'apt' };
      if (like.includes('debian')) return { ...base, operatingSystem: 'DEBIAN', family: 'apt' };
      if (like.some((l) => l === 'rhel' || l === 'fedora' || l === 'centos')) return { ...base, operatingSystem: 'REDHAT_ENTERPRISE_LINUX', family: 'rpm' };
      if (like.some((l) => l.startsWith('suse') || l === 'sles')) return { ...base, operatingSystem: 'SUSE', family: 'zypper' };
      throw new AgentError(`Unsupported system '${os.PRETTY_NAME ?? id}' (os-release ID=${id || '?'}): Patchline supports Debian, Ubuntu, Raspberry Pi OS, the RPM family and SUSE.`, EXIT.failure);
  }
}

/** Why an Alpine node cannot report (docs/agent.md, "Alpine"). */
export const ALPINE_REFUSAL =
  'Alpine Linux cannot report to Patchline: the AWS Patch Manager model has no OperatingSystem value for it, so no patch ' +
  'baseline can evaluate apk packages. `patchline agent scan --no-send` still lists what apk would upgrade.';
