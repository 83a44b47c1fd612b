// Create or edit a baseline (CreatePatchBaseline / UpdatePatchBaseline). The form sends what it holds, in the order
// shown, and lets the API judge it: a ValidationException (or SerializationException) is split into its clauses
// and each is shown next to the field it names (validation.ts maps both AWS's `approvalRules.patchRules.1.member…`
// paths and Patchline's `ApprovalRules.PatchRules[0]…` / `Invalid Filter Value: … for Key: …` wording), with a
// summary at the top that links to each field. Rules are previewed in plain words as they are edited.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call } from '../api.ts';
import { ErrorBox, Loading, PageHeader, Section } from '../components.tsx';
import { enumLabel, OPERATING_SYSTEMS, osLabel } from '../format.ts';
import { COMPLIANCE_LEVELS, describeRule, FILTER_KEYS, osFamily, type Baseline, type PatchRule } from '../rules.ts';
import { href, navigate, parseHash } from '../router.ts';
import { fieldErrors, type FieldError, type FilterRow } from '../validation.ts';

interface RuleForm {
  filters: FilterRow[];
  approval: 'days' | 'date' | 'none';
  days: string;
  date: string;
  complianceLevel: string;
  enableNonSecurity: boolean;
}

interface Form {
  name: string;
  description: string;
  operatingSystem: string;
  global: FilterRow[];
  rules: RuleForm[];
  approvedPatches: string;
  approvedPatchesComplianceLevel: string;
  approvedPatchesEnableNonSecurity: boolean;
  rejectedPatches: string;
  rejectedPatchesAction: string;
}

const blankRule = (os: string): RuleForm => ({
  filters: osFamily(os) === 'apt' ? [{ key: 'PRIORITY', values: 'Required, Important' }] : [{ key: 'CLASSIFICATION', values: 'Security' }, { key: 'SEVERITY', values: 'Critical, Important' }],
  approval: osFamily(os) === 'apt' ? 'none' : 'days',
  days: osFamily(os) === 'apt' ? '' : '7',
  date: '',
  complianceLevel: 'UNSPECIFIED',
  enableNonSecurity: false,
});

const blankForm = (): Form => ({
  name: '',
  description: '',
  operatingSystem: 'AMAZON_LINUX_2023',
  global: [],
  rules: [blankRule('AMAZON_LINUX_2023')],
  approvedPatches: '',
  approvedPatchesComplianceLevel: 'UNSPECIFIED',
  approvedPatchesEnableNonSecurity: false,
  rejectedPatches: '',
  rejectedPatchesAction: 'ALLOW_AS_DEPENDENCY',
});

function formOf(b: Baseline, copy: boolean): Form {
  return {
    name: copy ? `${b.Name}-copy`.replace(/[^a-zA-Z0-9_\-.]/g, '-').slice(0, 128) : b.Name,
    description: b.Description ?? '',
    operatingSystem: b.OperatingSystem,
    global: (b.GlobalFilters?.PatchFilters ?? []).map((f) => ({ key: f.Key, values: f.Values.join(', ') })),
    rules: (b.ApprovalRules?.PatchRules ?? []).map((r) => ({
      filters: r.PatchFilterGroup.PatchFilters.map((f) => ({ key: f.Key, values: f.Values.join(', ') })),
      approval: r.ApproveUntilDate !== undefined ? 'date' : r.ApproveAfterDays !== undefined ? 'days' : 'none',
      days: r.ApproveAfterDays !== undefined ? String(r.ApproveAfterDays) : '',
      date: r.ApproveUntilDate ?? '',
      complianceLevel: r.ComplianceLevel ?? 'UNSPECIFIED',
      enableNonSecurity: r.EnableNonSecurity ?? false,
    })),
    approvedPatches: (b.ApprovedPatches ?? []).join('\n'),
    approvedPatchesComplianceLevel: b.ApprovedPatchesComplianceLevel ?? 'UNSPECIFIED',
    approvedPatchesEnableNonSecurity: b.ApprovedPatchesEnableNonSecurity ?? false,
    rejectedPatches: (b.RejectedPatches ?? []).join('\n'),
    rejectedPatchesAction: b.RejectedPatchesAction ?? 'ALLOW_AS_DEPENDENCY',
  };
}

const splitValues = (s: string) =>
  s
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
const splitList = (s: string) =>
  s
    .split(/[\n,]/)
    .map((v) => v.trim())
    .filter((v) => v !== '');

/** A number when the text is one (the API judges its range), else the text itself (the API says it is not one). */
const numberOrText = (s: string): number | string => (/^-?\d+(\.\d+)?$/.test(s.trim()) ? Number(s.trim()) : s);

function ruleOf(r: RuleForm): PatchRule {
  const rule: Record<string, unknown> = {
    PatchFilterGroup: { PatchFilters: r.filters.map((f) => ({ Key: f.key, Values: splitValues(f.values) })) },
    ComplianceLevel: r.complianceLevel,
    EnableNonSecurity: r.enableNonSecurity,
  };
  if (r.approval === 'days' && r.days.trim() !== '') rule.ApproveAfterDays = numberOrText(r.days);
  if (r.approval === 'date' && r.date.trim() !== '') rule.ApproveUntilDate = r.date.trim();
  return rule as unknown as PatchRule;
}

function requestOf(f: Form, create: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    Name: f.name.trim(),
    GlobalFilters: { PatchFilters: f.global.map((g) => ({ Key: g.key, Values: splitValues(g.values) })) },
    ApprovalRules: { PatchRules: f.rules.map(ruleOf) },
    ApprovedPatches: splitList(f.approvedPatches),
    ApprovedPatchesComplianceLevel: f.approvedPatchesComplianceLevel,
    ApprovedPatchesEnableNonSecurity: f.approvedPatchesEnableNonSecurity,
    RejectedPatches: splitList(f.rejectedPatches),
    RejectedPatchesAction: f.rejectedPatchesAction,
  };
  if (f.description.trim() !== '') body.Description = f.description.trim();
  if (create) body.OperatingSystem = f.operatingSystem;
  return body;
}

const fieldId = (field: string) => `f-${field.replace(/\./g, '-')}`;

/** Valid values of an enumerated filter key for an OS (DescribePatchProperties), cached per page. */
const propertyCache = new Map<string, Promise<string[]>>();
function useProperty(os: string, key: string): string[] | undefined {
  const property = ['PRODUCT', 'PRODUCT_FAMILY', 'CLASSIFICATION', 'MSRC_SEVERITY', 'PRIORITY', 'SEVERITY'].includes(key) ? key : undefined;
  const [values, setValues] = useState<string[]>();
  useEffect(() => {
    setValues(undefined);
    if (!property) return;
    const cacheKey = `${os}/${property}`;
    let p = propertyCache.get(cacheKey);
    if (!p) {
      p = call<{ Properties: Array<Record<string, string>> }>('DescribePatchProperties', { OperatingSystem: os, Property: property, MaxResults: 50 })
        .then((r) => r.Properties.map((x) => x.Name ?? Object.values(x)[0] ?? '').filter(Boolean))
        .catch(() => []);
      propertyCache.set(cacheKey, p);
    }
    let live = true;
    void p.then((v) => live && setValues(v));
    return () => {
      live = false;
    };
  }, [os, property]);
  return values;
}

function FieldMessages({ field, errors }: { field: string; errors: FieldError[] }) {
  const mine = errors.filter((e) => e.field === field);
  if (mine.length === 0) return null;
  return (
    <div class="field-error" id={`${fieldId(field)}-error`} data-field={field}>
      {mine.map((e) => (
        <p>{e.message}</p>
      ))}
    </div>
  );
}

/** aria attributes for an input with possible errors. */
function errAttrs(field: string, errors: FieldError[], describedBy?: string) {
  const has = errors.some((e) => e.field === field);
  const ids = [describedBy, has ? `${fieldId(field)}-error` : undefined].filter(Boolean).join(' ');
  return { id: fieldId(field), 'aria-invalid': has ? ('true' as const) : undefined, 'aria-describedby': ids || undefined };
}

function FilterRows({ rows, prefix, os, errors, onChange, global }: { rows: FilterRow[]; prefix: string; os: string; errors: FieldError[]; onChange: (rows: FilterRow[]) => void; global: boolean }) {
  const keys = FILTER_KEYS[osFamily(os)].filter((k) => global || k !== 'PATCH_ID');
  return (
    <div class="filter-rows">
      {rows.map((row, j) => (
        <FilterRowEditor
          row={row}
          index={j}
          prefix={prefix}
          os={os}
          keys={keys}
          errors={errors}
          onChange={(r) => onChange(rows.map((x, i) => (i === j ? r : x)))}
          onRemove={() => onChange(rows.filter((_, i) => i !== j))}
        />
      ))}
      <button type="button" class="secondary small" onClick={() => onChange([...rows, { key: keys.find((k) => !rows.some((r) => r.key === k)) ?? keys[0]!, values: '' }])}>
        Add filter
      </button>
    </div>
  );
}

function FilterRowEditor({ row, index, prefix, os, keys, errors, onChange, onRemove }: { row: FilterRow; index: number; prefix: string; os: string; keys: readonly string[]; errors: FieldError[]; onChange: (r: FilterRow) => void; onRemove: () => void }) {
  const valid = useProperty(os, row.key);
  const base = `${prefix}.${index}`;
  const hintId = `${fieldId(`${base}.values`)}-hint`;
  return (
    <fieldset class="filter-row">
      <legend class="sr-only">Filter {index + 1}</legend>
      <div class="field">
        <label for={fieldId(`${base}.key`)}>Property</label>
        <select {...errAttrs(`${base}.key`, errors)} value={row.key} onChange={(e) => onChange({ ...row, key: (e.target as HTMLSelectElement).value })}>
          {[...new Set([...keys, row.key])].map((k) => (
            <option value={k}>{enumLabel(k)}</option>
          ))}
        </select>
        <FieldMessages field={`${base}.key`} errors={errors} />
      </div>
      <div class="field grow">
        <label for={fieldId(`${base}.values`)}>Values (comma-separated; * for any)</label>
        <input {...errAttrs(`${base}.values`, errors, valid && valid.length > 0 ? hintId : undefined)} value={row.values} onInput={(e) => onChange({ ...row, values: (e.target as HTMLInputElement).value })} />
        {valid && valid.length > 0 ? (
          <p class="help" id={hintId}>
            Known values: {valid.slice(0, 20).join(', ')}
            {valid.length > 20 ? ', …' : ''}
          </p>
        ) : null}
        <FieldMessages field={`${base}.values`} errors={errors} />
      </div>
      <div class="field end">
        <button type="button" class="link small" onClick={onRemove}>
          Remove<span class="sr-only"> filter {index + 1}</span>
        </button>
      </div>
    </fieldset>
  );
}

export function BaselineEditor({ baselineId }: { baselineId?: string }) {
  const create = baselineId === undefined;
  const from = create ? parseHash(location.hash).query.get('from') : null;
  const [form, setForm] = useState<Form | undefined>(create && !from ? blankForm() : undefined);
  const [loadError, setLoadError] = useState<Error>();
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [apiError, setApiError] = useState<ApiError | Error>();
  const [busy, setBusy] = useState(false);
  const summary = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const id = baselineId ?? from;
    if (!id) return;
    call<Baseline>('GetPatchBaseline', { BaselineId: id }).then(
      (b) => setForm(formOf(b, create)),
      (err: Error) => setLoadError(err),
    );
  }, [baselineId, from]);

  const title = create ? 'Create a baseline' : `Edit baseline ${form?.name ?? ''}`;
  if (loadError) {
    return (
      <div>
        <PageHeader title={title} />
        <ErrorBox error={loadError} />
      </div>
    );
  }
  if (!form) {
    return (
      <div>
        <PageHeader title={title} />
        <Loading />
      </div>
    );
  }
  const update = (patch: Partial<Form>) => setForm({ ...form, ...patch });
  const updateRule = (i: number, patch: Partial<RuleForm>) => update({ rules: form.rules.map((r, j) => (j === i ? { ...r, ...patch } : r)) });

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors([]);
    setApiError(undefined);
    try {
      const body = requestOf(form, create);
      const result = create
        ? await call<{ BaselineId: string }>('CreatePatchBaseline', body)
        : await call<{ BaselineId: string }>('UpdatePatchBaseline', { BaselineId: baselineId, ...body });
      navigate(href(['baselines', result.BaselineId ?? baselineId!]));
    } catch (err) {
      const apiErr = err as ApiError;
      setApiError(apiErr);
      if (apiErr instanceof ApiError && (apiErr.code === 'ValidationException' || apiErr.code === 'SerializationException')) {
        setErrors(fieldErrors(apiErr.message, { global: form.global, rules: form.rules }));
      }
      setBusy(false);
      setTimeout(() => summary.current?.focus(), 0);
    }
  };

  const os = form.operatingSystem;
  const fieldLabel = (field: string): string => {
    if (field === '') return 'Baseline';
    const m = /^rules\.(\d+)(?:\.filters\.(\d+)\.(key|values)|\.(\w+))?$/.exec(field);
    if (m) return `Rule ${Number(m[1]) + 1}${m[2] !== undefined ? `, filter ${Number(m[2]) + 1} ${m[3]}` : m[4] ? `, ${m[4].replace(/([A-Z])/g, ' $1').toLowerCase()}` : ''}`;
    const g = /^global\.(\d+)\.(key|values)$/.exec(field);
    if (g) return `Global filter ${Number(g[1]) + 1} ${g[2]}`;
    return field.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());
  };
  const focusField = (field: string) => {
    const el = document.getElementById(fieldId(field)) ?? document.getElementById(fieldId(field.replace(/\.\w+$/, '')));
    el?.focus();
  };

  return (
    <div>
      <PageHeader title={title} sub={create ? 'Rules approve patches by their properties; a node is compliant when it has every approved patch.' : undefined}>
        <a class="button secondary" href={create ? '#/baselines' : href(['baselines', baselineId!])}>
          Cancel
        </a>
      </PageHeader>
      <div ref={summary} tabIndex={-1} class="error-summary-wrap">
        {apiError ? (
          <div class="error" role="alert" data-testid="error-summary">
            <strong>
              {errors.length > 0 ? `The baseline was not saved: ${errors.length === 1 ? 'one problem' : `${errors.length} problems`}` : 'The baseline was not saved'}
            </strong>
            <p>
              <code class="error-code">{apiError instanceof ApiError ? apiError.code : apiError.name}</code> {errors.length === 0 ? apiError.message : ''}
            </p>
            {errors.length > 0 ? (
              <ul>
                {errors.map((e) => (
                  <li>
                    {e.field ? (
                      <a
                        href={`#${fieldId(e.field)}`}
                        onClick={(ev) => {
                          ev.preventDefault();
                          focusField(e.field);
                        }}
                      >
                        {fieldLabel(e.field)}
                      </a>
                    ) : (
                      'Baseline'
                    )}
                    : {e.message}
                  </li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
      </div>
      <form onSubmit={submit} class="editor" noValidate>
        <Section title="Basics">
          <div class="field">
            <label for={fieldId('name')}>Name</label>
            <input {...errAttrs('name', errors, 'name-help')} value={form.name} onInput={(e) => update({ name: (e.target as HTMLInputElement).value })} />
            <p class="help" id="name-help">
              3–128 letters, digits, <code>_ - .</code>
            </p>
            <FieldMessages field="name" errors={errors} />
          </div>
          <div class="field">
            <label for={fieldId('operatingSystem')}>Operating system</label>
            <select
              {...errAttrs('operatingSystem', errors, create ? undefined : 'os-help')}
              value={os}
              disabled={!create}
              onChange={(e) => {
                const v = (e.target as HTMLSelectElement).value;
                update({ operatingSystem: v, global: [], rules: [blankRule(v)] });
              }}
            >
              {OPERATING_SYSTEMS.map((o) => (
                <option value={o}>{osLabel(o)}</option>
              ))}
            </select>
            {!create ? (
              <p class="help" id="os-help">
                A baseline's operating system cannot change.
              </p>
            ) : null}
            <FieldMessages field="operatingSystem" errors={errors} />
          </div>
          <div class="field">
            <label for={fieldId('description')}>Description (optional)</label>
            <input {...errAttrs('description', errors)} value={form.description} onInput={(e) => update({ description: (e.target as HTMLInputElement).value })} />
            <FieldMessages field="description" errors={errors} />
          </div>
        </Section>

        <Section title="Approval rules">
          <FieldMessages field="rules" errors={errors} />
          {form.rules.length === 0 ? <p>No rules: only the approved list below is installed.</p> : null}
          {form.rules.map((r, i) => (
            <fieldset class="rule" data-testid={`rule-editor-${i + 1}`}>
              <legend>Rule {i + 1}</legend>
              <p class="preview" aria-live="polite">
                {describeRule(ruleOf({ ...r, days: /^\d+$/.test(r.days.trim()) ? r.days : '' }), os)}
              </p>
              <FieldMessages field={`rules.${i}`} errors={errors} />
              <FilterRows rows={r.filters} prefix={`rules.${i}.filters`} os={os} errors={errors} global={false} onChange={(filters) => updateRule(i, { filters })} />
              <FieldMessages field={`rules.${i}.filters`} errors={errors} />
              <div class="row wrap">
                <div class="field">
                  <label for={fieldId(`rules.${i}.approval`)}>Approve</label>
                  <select id={fieldId(`rules.${i}.approval`)} value={r.approval} onChange={(e) => updateRule(i, { approval: (e.target as HTMLSelectElement).value as RuleForm['approval'] })}>
                    <option value="days">a number of days after release</option>
                    <option value="date">if released on or before a date</option>
                    {osFamily(os) === 'apt' ? <option value="none">as soon as available</option> : <option value="none">(no delay given)</option>}
                  </select>
                </div>
                {r.approval === 'days' ? (
                  <div class="field">
                    <label for={fieldId(`rules.${i}.approveAfterDays`)}>Days after release</label>
                    <input {...errAttrs(`rules.${i}.approveAfterDays`, errors)} inputMode="numeric" value={r.days} onInput={(e) => updateRule(i, { days: (e.target as HTMLInputElement).value })} class="short" />
                    <FieldMessages field={`rules.${i}.approveAfterDays`} errors={errors} />
                  </div>
                ) : null}
                {r.approval === 'date' ? (
                  <div class="field">
                    <label for={fieldId(`rules.${i}.approveUntilDate`)}>Released on or before (YYYY-MM-DD)</label>
                    <input {...errAttrs(`rules.${i}.approveUntilDate`, errors)} value={r.date} onInput={(e) => updateRule(i, { date: (e.target as HTMLInputElement).value })} class="short" />
                    <FieldMessages field={`rules.${i}.approveUntilDate`} errors={errors} />
                  </div>
                ) : null}
                {r.approval === 'none' ? <FieldMessages field={`rules.${i}.approveAfterDays`} errors={errors} /> : null}
                <div class="field">
                  <label for={fieldId(`rules.${i}.complianceLevel`)}>Compliance level when missing</label>
                  <select {...errAttrs(`rules.${i}.complianceLevel`, errors)} value={r.complianceLevel} onChange={(e) => updateRule(i, { complianceLevel: (e.target as HTMLSelectElement).value })}>
                    {COMPLIANCE_LEVELS.map((l) => (
                      <option value={l}>{enumLabel(l)}</option>
                    ))}
                  </select>
                  <FieldMessages field={`rules.${i}.complianceLevel`} errors={errors} />
                </div>
                <div class="field check">
                  <input type="checkbox" id={fieldId(`rules.${i}.enableNonSecurity`)} checked={r.enableNonSecurity} onChange={(e) => updateRule(i, { enableNonSecurity: (e.target as HTMLInputElement).checked })} />
                  <label for={fieldId(`rules.${i}.enableNonSecurity`)}>Include non-security updates</label>
                </div>
              </div>
              <button type="button" class="link small" onClick={() => update({ rules: form.rules.filter((_, j) => j !== i) })}>
                Remove rule {i + 1}
              </button>
            </fieldset>
          ))}
          <button type="button" class="secondary" onClick={() => update({ rules: [...form.rules, blankRule(os)] })}>
            Add rule
          </button>
        </Section>

        <Section title="Global filters (optional)">
          <p class="help">Patches that do not match these are never approved, whatever the rules say.</p>
          <FieldMessages field="global" errors={errors} />
          <FilterRows rows={form.global} prefix="global" os={os} errors={errors} global={true} onChange={(global) => update({ global })} />
        </Section>

        <Section title="Approved and rejected patches (optional)">
          <div class="grid two">
            <div>
              <div class="field">
                <label for={fieldId('approvedPatches')}>Always approve (one per line)</label>
                <textarea {...errAttrs('approvedPatches', errors)} rows={4} value={form.approvedPatches} onInput={(e) => update({ approvedPatches: (e.target as HTMLTextAreaElement).value })} />
                <FieldMessages field="approvedPatches" errors={errors} />
              </div>
              <div class="field">
                <label for={fieldId('approvedPatchesComplianceLevel')}>Their compliance level</label>
                <select {...errAttrs('approvedPatchesComplianceLevel', errors)} value={form.approvedPatchesComplianceLevel} onChange={(e) => update({ approvedPatchesComplianceLevel: (e.target as HTMLSelectElement).value })}>
                  {COMPLIANCE_LEVELS.map((l) => (
                    <option value={l}>{enumLabel(l)}</option>
                  ))}
                </select>
              </div>
              <div class="field check">
                <input type="checkbox" id={fieldId('approvedPatchesEnableNonSecurity')} checked={form.approvedPatchesEnableNonSecurity} onChange={(e) => update({ approvedPatchesEnableNonSecurity: (e.target as HTMLInputElement).checked })} />
                <label for={fieldId('approvedPatchesEnableNonSecurity')}>Approved patches may come from non-security repositories</label>
              </div>
            </div>
            <div>
              <div class="field">
                <label for={fieldId('rejectedPatches')}>Reject (one per line)</label>
                <textarea {...errAttrs('rejectedPatches', errors)} rows={4} value={form.rejectedPatches} onInput={(e) => update({ rejectedPatches: (e.target as HTMLTextAreaElement).value })} />
                <FieldMessages field="rejectedPatches" errors={errors} />
              </div>
              <div class="field">
                <label for={fieldId('rejectedPatchesAction')}>Rejected patches</label>
                <select {...errAttrs('rejectedPatchesAction', errors)} value={form.rejectedPatchesAction} onChange={(e) => update({ rejectedPatchesAction: (e.target as HTMLSelectElement).value })}>
                  <option value="ALLOW_AS_DEPENDENCY">may be installed as a dependency</option>
                  <option value="BLOCK">are blocked, with everything that depends on them</option>
                </select>
              </div>
            </div>
          </div>
        </Section>
        <FieldMessages field="" errors={errors} />
        <div class="form-actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : create ? 'Create baseline' : 'Save changes'}
          </button>
        </div>
      </form>
    </div>
  );
}
