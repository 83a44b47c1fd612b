// Puts the API's validation errors next to the fields they name. Three wordings reach the baseline editor:
//   AWS model validation  `1 validation error detected: Value '500' at 'approvalRules.patchRules.1.member.approveAfterDays' failed to satisfy constraint: …`
//   Patchline's checks    `ApprovalRules.PatchRules[0]: specify either ApproveAfterDays or ApproveUntilDate, not both.`
//                         `Invalid Filter Value: Huge for Key: SEVERITY, valid values are: …` (found by key and value)
//   serialization         `Expected Integer for 'ApprovalRules.PatchRules[0].ApproveAfterDays' but got String`
// Field keys are the editor's: `name`, `rules.0.approveAfterDays`, `rules.0.filters.1.values`, `global.0.key`, ….

export interface FilterRow {
  key: string;
  values: string;
}

/** The filter rows of the form, to find a filter by key and value. */
export interface FormShape {
  global: FilterRow[];
  rules: Array<{ filters: FilterRow[] }>;
}

export interface FieldError {
  /** Editor field key, or '' when no field can be named. */
  field: string;
  message: string;
}

/** Splits `a; b; c` into clauses, keeping `…; give each key once…` (a lower-case continuation) with its clause. */
export function splitClauses(message: string): string[] {
  const body = message.replace(/^\d+ validation errors? detected:\s*/, '');
  const parts = body.split(/;\s+/);
  const out: string[] = [];
  for (const p of parts) {
    if (out.length > 0 && /^[a-z]/.test(p) && !/^Value /.test(p)) out[out.length - 1] += `; ${p}`;
    else out.push(p);
  }
  return out.filter((p) => p.trim() !== '');
}

const lower = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** `approvalRules.patchRules.1.member.approveAfterDays` → ['approvalRules', 'patchRules', 0, 'approveAfterDays']. */
function awsPathSegments(path: string): Array<string | number> {
  const raw = path.split('.');
  const out: Array<string | number> = [];
  for (let i = 0; i < raw.length; i++) {
    const part = raw[i]!;
    if (/^\d+$/.test(part) && raw[i + 1] === 'member') {
      out.push(Number(part) - 1);
      i++;
    } else if (/^\d+$/.test(part)) out.push(Number(part) - 1);
    else out.push(part);
  }
  return out;
}

/** `ApprovalRules.PatchRules[0].PatchFilterGroup.PatchFilters[1].Values[2]` → segments, lower-camel. */
function wirePathSegments(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([A-Za-z]+)|\[(\d+)\]|\["[^"]*"\]/g)) {
    if (m[1] !== undefined) out.push(lower(m[1]));
    else if (m[2] !== undefined) out.push(Number(m[2]));
  }
  return out;
}

function fieldOf(segments: Array<string | number>): string {
  const [a, b, c, ...rest] = segments;
  if (a === 'approvalRules') {
    if (b !== 'patchRules') return 'rules';
    if (typeof c !== 'number') return 'rules';
    if (rest.length === 0) return `rules.${c}`;
    if (rest[0] === 'patchFilterGroup') {
      const [, list, j, member] = rest;
      if (list !== 'patchFilters' || typeof j !== 'number') return `rules.${c}.filters`;
      return `rules.${c}.filters.${j}.${member === 'key' ? 'key' : 'values'}`;
    }
    return `rules.${c}.${String(rest[0])}`;
  }
  if (a === 'globalFilters') {
    if (b !== 'patchFilters' || typeof c !== 'number') return 'global';
    return `global.${c}.${rest[0] === 'key' ? 'key' : 'values'}`;
  }
  return typeof a === 'string' ? a : '';
}

function findFilter(form: FormShape, key: string, value?: string): string[] {
  const hits: string[] = [];
  const test = (row: FilterRow) =>
    row.key === key &&
    (value === undefined ||
      row.values
        .split(',')
        .map((v) => v.trim())
        .includes(value));
  form.global.forEach((row, j) => test(row) && hits.push(`global.${j}.${value === undefined ? 'key' : 'values'}`));
  form.rules.forEach((rule, i) => rule.filters.forEach((row, j) => test(row) && hits.push(`rules.${i}.filters.${j}.${value === undefined ? 'key' : 'values'}`)));
  return hits;
}

function clauseFields(clause: string, form: FormShape): string[] {
  let m = /^Value (?:'.*'|null)? ?at '([^']+)' failed to satisfy constraint/s.exec(clause);
  if (m) return [fieldOf(awsPathSegments(m[1]!))];
  m = /^Expected \w+(?: \([^)]*\))? for '([^']+)'/.exec(clause);
  if (m) return [fieldOf(wirePathSegments(m[1]!))];
  m = /^Invalid Filter Value: (.*) for Key: ([A-Z_]+)/.exec(clause);
  if (m) {
    const hits = findFilter(form, m[2]!, m[1]!);
    return hits.length > 0 ? hits : findFilter(form, m[2]!).map((f) => f.replace(/\.key$/, '.values'));
  }
  m = /^Invalid Filter Key: ([A-Z_a-z0-9]+) for operating system \w+ in (GlobalFilters|ApprovalRules\.PatchRules\[(\d+)\])/.exec(clause);
  if (m) {
    const key = m[1]!;
    const hits = findFilter(form, key).filter((f) => (m![3] === undefined ? f.startsWith('global.') : f.startsWith(`rules.${m![3]}.`)));
    return hits.length > 0 ? hits : [m[3] === undefined ? 'global' : `rules.${m[3]}`];
  }
  m = /^Duplicate filter key ([A-Z_]+) in (GlobalFilters|ApprovalRules\.PatchRules\[(\d+)\])/.exec(clause);
  if (m) {
    const hits = findFilter(form, m[1]!).filter((f) => (m![3] === undefined ? f.startsWith('global.') : f.startsWith(`rules.${m![3]}.`)));
    return hits.length > 1 ? hits.slice(1) : hits;
  }
  m = /^ApprovalRules\.PatchRules\[(\d+)\]: (.*)$/s.exec(clause);
  if (m) {
    const rule = m[1]!;
    const text = m[2]!;
    if (/^ApproveUntilDate/.test(text)) return [`rules.${rule}.approveUntilDate`];
    if (/ApproveAfterDays|ApproveUntilDate/.test(text)) return [`rules.${rule}.approveAfterDays`];
    return [`rules.${rule}`];
  }
  m = /(?:entry '.*' )?in (ApprovedPatches|RejectedPatches)\b/.exec(clause);
  if (m) return [lower(m[1]!)];
  m = /(ApprovalRules\.PatchRules\[\d+\](?:\.PatchFilterGroup\.PatchFilters\[\d+\](?:\.\w+)?)?|GlobalFilters(?:\.PatchFilters\[\d+\](?:\.\w+)?)?)/.exec(clause);
  if (m) return [fieldOf(wirePathSegments(m[1]!))];
  if (/\bSources?\b/.test(clause)) return ['sources'];
  if (/^AvailableSecurityUpdatesComplianceStatus/.test(clause)) return ['availableSecurityUpdatesComplianceStatus'];
  return [''];
}

/** Every clause of an error message with the editor field(s) it belongs to. */
export function fieldErrors(message: string, form: FormShape): FieldError[] {
  const out: FieldError[] = [];
  for (const clause of splitClauses(message)) {
    for (const field of clauseFields(clause, form)) out.push({ field, message: clause });
  }
  return out;
}
