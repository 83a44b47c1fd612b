// The values DescribePatchProperties lists per operating system, property and (Windows) patch set, from
// src/generated/patch-properties.json (derived from ../shared/reference by scripts/generate-model.ts), and the
// PRODUCT naming rules used to accept products our seed lists do not know yet.

import data from '../generated/patch-properties.json' with { type: 'json' };

interface PropertyValues {
  confidence: string;
  values: string[];
}
interface OsEntry {
  patchSetApplies: boolean;
  validProperties: string[];
  properties?: Record<string, PropertyValues>;
  patchSets?: Record<string, Record<string, PropertyValues>>;
}

const systems = (data as unknown as { operatingSystems: Record<string, OsEntry> }).operatingSystems;

/** Properties DescribePatchProperties accepts for an operating system. */
export function validProperties(os: string): string[] {
  return systems[os]?.validProperties ?? [];
}

/** The known values of a property (Windows: of a patch set, default OS), or undefined if the OS lacks it. */
export function patchPropertyValues(os: string, property: string, patchSet = 'OS'): string[] | undefined {
  const entry = systems[os];
  if (entry === undefined) return undefined;
  if (entry.patchSetApplies) {
    const fromSet = entry.patchSets?.[patchSet]?.[property]?.values;
    if (fromSet !== undefined || patchSet !== 'OS') return fromSet;
    // Filters do not say which patch set they mean: accept values of either set.
    const all = new Set<string>();
    for (const set of Object.values(entry.patchSets ?? {})) set[property]?.values.forEach((v) => all.add(v));
    return all.size > 0 ? [...all] : undefined;
  }
  return entry.properties?.[property]?.values;
}

/** Product names follow each vendor's pattern; a product newer than our seed list still matches its pattern. */
const PRODUCT_PREFIXES: Record<string, RegExp> = {
  AMAZON_LINUX: /^AmazonLinux20\d\d\.\d\d$/,
  AMAZON_LINUX_2: /^AmazonLinux2(\.\d+)?$/,
  AMAZON_LINUX_2022: /^AmazonLinux2022(\.\d+)?$/,
  AMAZON_LINUX_2023: /^AmazonLinux2023(\.\d+)*$/,
  REDHAT_ENTERPRISE_LINUX: /^RedhatEnterpriseLinux\d+(\.\d+)?$/,
  CENTOS: /^CentOS(Stream)?\d+(\.\d+)?$/,
  ORACLE_LINUX: /^OracleLinux\d+(\.\d+)?$/,
  ROCKY_LINUX: /^RockyLinux\d+(\.\d+)?$/,
  ALMA_LINUX: /^AlmaLinux\d+(\.\d+)?$/,
  SUSE: /^(Suse|SLES|OpenSUSE)\d+(\.\d+)?$/i,
  UBUNTU: /^Ubuntu\d{2}\.\d{2}$/,
  DEBIAN: /^Debian\d+$/,
  RASPBIAN: /^Raspbian\d+$/,
  MACOS: /^MacOS\d+(\.\d+)*$/,
};

/** Whether a PRODUCT filter value is acceptable for a baseline of this OS (never the literal `All`, observed). */
export function productLooksValid(os: string, value: string): boolean {
  if (value === 'All') return false;
  const known = patchPropertyValues(os, 'PRODUCT');
  if (known?.includes(value)) return true;
  if (os === 'WINDOWS') return true; // Windows and Microsoft application product names are open-ended
  return PRODUCT_PREFIXES[os]?.test(value) ?? false;
}
