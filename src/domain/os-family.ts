// Operating-system families and the baseline filter keys each accepts. No imports and no I/O: the server's domain
// code and the browser console (console/src/rules.ts) both use this one definition.

export type OsFamily = 'windows' | 'yum' | 'suse' | 'apt' | 'macos';

/** Which package world an operating system belongs to; rules and list formats follow from it. */
export function osFamily(os: string): OsFamily {
  switch (os) {
    case 'WINDOWS':
      return 'windows';
    case 'UBUNTU':
    case 'DEBIAN':
    case 'RASPBIAN':
      return 'apt';
    case 'SUSE':
      return 'suse';
    case 'MACOS':
      return 'macos';
    default:
      return 'yum';
  }
}

const RPM_EXTRA_KEYS = ['NAME', 'ARCH', 'REPOSITORY', 'EPOCH', 'VERSION', 'RELEASE', 'ADVISORY_ID', 'CVE_ID', 'BUGZILLA_ID', 'SECURITY'];

/** Filter keys a baseline of each family accepts (semantics §5–§6, API reference §12). */
export const FILTER_KEYS: Record<OsFamily, readonly string[]> = {
  windows: ['PATCH_SET', 'PRODUCT', 'PRODUCT_FAMILY', 'CLASSIFICATION', 'MSRC_SEVERITY', 'PATCH_ID'],
  yum: ['PRODUCT', 'CLASSIFICATION', 'SEVERITY', ...RPM_EXTRA_KEYS],
  suse: ['PRODUCT', 'CLASSIFICATION', 'SEVERITY', ...RPM_EXTRA_KEYS],
  apt: ['PRODUCT', 'PRIORITY', 'SECTION'],
  macos: ['PRODUCT', 'CLASSIFICATION'],
};
