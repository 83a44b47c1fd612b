// Formatting shared by the views: numbers, epoch-second times, relative ages, labels for API enums.

const numberFormat = new Intl.NumberFormat('en-US');

export function num(n: number | undefined | null): string {
  return n === undefined || n === null ? '—' : numberFormat.format(n);
}

export function pct(part: number, whole: number): string {
  if (!whole) return '0%';
  const p = (part / whole) * 100;
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.round(p)}%`;
}

/** Epoch seconds → `2026-03-01 12:00 UTC`. */
export function time(epochSeconds: number | undefined | null): string {
  if (epochSeconds === undefined || epochSeconds === null || !Number.isFinite(epochSeconds) || epochSeconds <= 0) return '—';
  const d = new Date(epochSeconds * 1000);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Epoch seconds → `3 days ago`. */
export function ago(epochSeconds: number | undefined | null, now = Date.now()): string {
  if (epochSeconds === undefined || epochSeconds === null || epochSeconds <= 0) return 'never';
  const s = Math.round(now / 1000 - epochSeconds);
  if (s < 0) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export function day(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 10);
}

const COMPLIANCE_LABEL: Record<string, string> = {
  COMPLIANT: 'Compliant',
  NON_COMPLIANT: 'Non-compliant',
  NOT_REPORTED: 'Never reported',
  STALE: 'Stale',
};

export function complianceLabel(status: string | undefined): string {
  return status ? (COMPLIANCE_LABEL[status] ?? status) : '—';
}

const OS_LABEL: Record<string, string> = {
  WINDOWS: 'Windows',
  AMAZON_LINUX: 'Amazon Linux',
  AMAZON_LINUX_2: 'Amazon Linux 2',
  AMAZON_LINUX_2022: 'Amazon Linux 2022',
  AMAZON_LINUX_2023: 'Amazon Linux 2023',
  UBUNTU: 'Ubuntu',
  REDHAT_ENTERPRISE_LINUX: 'Red Hat Enterprise Linux',
  SUSE: 'SUSE Linux Enterprise',
  CENTOS: 'CentOS',
  ORACLE_LINUX: 'Oracle Linux',
  DEBIAN: 'Debian',
  MACOS: 'macOS',
  RASPBIAN: 'Raspberry Pi OS',
  ROCKY_LINUX: 'Rocky Linux',
  ALMA_LINUX: 'AlmaLinux',
};

export const OPERATING_SYSTEMS = Object.keys(OS_LABEL);

export function osLabel(os: string | undefined): string {
  return os ? (OS_LABEL[os] ?? os) : '—';
}

/** `CRITICAL` → `Critical`, `INSTALLED_PENDING_REBOOT` → `Installed pending reboot`. */
export function enumLabel(v: string | undefined): string {
  if (!v) return '—';
  const words = v.toLowerCase().split('_');
  return words.map((w, i) => (i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w)).join(' ');
}

/** Splits `InstalledPendingReboot` → `Installed pending reboot`. */
export function camelLabel(v: string | undefined): string {
  if (!v) return '—';
  const spaced = v.replace(/([a-z])([A-Z])/g, '$1 $2');
  return spaced.charAt(0) + spaced.slice(1).toLowerCase();
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

/** "a, b or c". */
export function orList(values: readonly string[], conjunction = 'or'): string {
  if (values.length <= 1) return values[0] ?? '';
  return `${values.slice(0, -1).join(', ')} ${conjunction} ${values[values.length - 1]}`;
}
