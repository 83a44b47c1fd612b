// The one interface every package-manager scanner implements (apt, dnf/yum, zypper, apk), and the package
// shapes it produces: exactly the members of Patchline.PutScanReport's Installed and Updates entries.

import type { Host } from '../host.ts';

export interface InstalledPackage {
  Name: string;
  Version: string;
  Architecture: string;
  SourceName?: string;
  SourceVersion?: string;
  /** Epoch seconds. */
  InstalledTime?: number;
  Repository?: string;
  /** The installed version itself is published in a security source (apt: a *-security pocket). */
  Security?: boolean;
  Priority?: string;
  Section?: string;
  Classification?: string;
  Severity?: string;
}

export interface UpdatePackage {
  Name: string;
  Version: string;
  Architecture: string;
  SourceName?: string;
  SourceVersion?: string;
  Repository?: string;
  Security: boolean;
  Classification?: string;
  Severity?: string;
  Priority?: string;
  Section?: string;
  /** Epoch seconds. */
  ReleaseTime?: number;
  AdvisoryIds?: string[];
  CVEIds?: string[];
  BugzillaIds?: string[];
  DependsOn?: string[];
}

export interface ScanResult {
  installed: InstalledPackage[];
  updates: UpdatePackage[];
  rebootPending: boolean;
  /** Things a person should know (a refresh that failed, data that was not available offline…). */
  notes: string[];
}

export interface ScanOptions {
  /** Refresh the package lists first (apt-get update, dnf makecache, zypper refresh). */
  refresh?: boolean;
}

/** One approved update to install, from the snapshot's Install list. */
export interface InstallItem {
  Name: string;
  Architecture: string;
  Version: string;
}

export interface InstallRequest {
  items: InstallItem[];
  /** Names (apt: bare names, rpm: names or name.arch; `*`/`?` globs) never to install. */
  rejected: string[];
  /** BLOCK: also refuse an upgrade that would install or upgrade a rejected package. */
  block: boolean;
  onProgress?: (line: string) => void;
}

export interface InstallOutcome {
  installed: InstallItem[];
  failed: Array<InstallItem & { reason: string }>;
  /** Updates refused because they would pull a rejected package (BLOCK): name → rejected names. */
  blockedBy: Record<string, string[]>;
  /** Items skipped because the installed version is already the approved one (or newer). */
  alreadyCurrent: InstallItem[];
  log: string;
}

export interface Scanner {
  /** apt, dnf, yum, zypper, apk. */
  readonly manager: string;
  scan(options?: ScanOptions): Promise<ScanResult>;
  rebootPending(): Promise<boolean>;
  install(request: InstallRequest): Promise<InstallOutcome>;
}

export interface ScannerContext {
  host: Host;
}

/** Glob match for rejected-patch names (`*` any run, `?` one character), case-insensitive. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(value);
}

export function isRejected(rejected: string[], name: string, arch: string): boolean {
  return rejected.some((r) => globMatch(r, name) || globMatch(r, `${name}.${arch}`));
}
