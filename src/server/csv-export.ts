// CSV export of paginated list operations (GET /console/export.csv, docs/console.md). The model says what can be
// exported and how: every served operation whose paginator (src/generated/paginators.json) names one result
// list. Columns come from the list member's shape, in model order (exportColumns, generated with the paginators),
// so the header is known before the first page:
// nested structures are flattened as `A.B`, lists joined with `;` (structures inside lists as JSON), maps as
// `key=value;…`, timestamps as ISO 8601 (UTC). Cells follow RFC 4180 (quoted when they hold a comma, quote, CR
// or LF; quotes doubled; CRLF line ends), and a text cell that a spreadsheet would read as a formula (=, +, -, @,
// tab, CR first) is prefixed with an apostrophe.

import model from '../generated/ssm-model.json' with { type: 'json' };
import paginators from '../generated/paginators.json' with { type: 'json' };

interface ModelShape {
  type: string;
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  value?: { shape: string };
  max?: number;
}

interface Paginator {
  input_token: string | string[];
  output_token: string | string[];
  limit_key?: string;
  result_key: string | string[];
}

const SHAPES = model.shapes as unknown as Record<string, ModelShape>;
const OPERATIONS = model.operations as unknown as Record<string, { input?: string; output?: string }>;
const PAGINATORS = paginators.pagination as unknown as Record<string, Paginator>;
const EXPORT_COLUMNS = (paginators as { exportColumns?: Record<string, string[]> }).exportColumns ?? {};
/** Structures nested deeper than this are written as JSON in one column. */
const MAX_DEPTH = 4;

type CellKind = 'string' | 'number' | 'boolean' | 'timestamp' | 'list' | 'map' | 'json';

interface Column {
  name: string;
  path: string[];
  kind: CellKind;
  /** For lists and maps: the member / value shape. */
  item?: string;
}

export interface ExportPlan {
  operation: string;
  inputToken: string;
  outputToken: string;
  resultKey: string;
  /** The limit member and the largest value the model allows for it (pages as large as possible). */
  limit?: { member: string; max: number };
  columns: Column[];
  /** The list holds scalars (one column, the item itself), not structures. */
  scalarItems: boolean;
}

function kindOf(shape: ModelShape): CellKind {
  switch (shape.type) {
    case 'string': case 'blob': return 'string';
    case 'boolean': return 'boolean';
    case 'timestamp': return 'timestamp';
    case 'list': return 'list';
    case 'map': return 'map';
    case 'structure': return 'json';
    default: return 'number';
  }
}

function columnsOf(shapeName: string, path: string[], depth: number): Column[] {
  const shape = SHAPES[shapeName];
  if (shape === undefined) return [{ name: path.join('.'), path, kind: 'json' }];
  if (shape.type === 'structure' && depth < MAX_DEPTH) {
    return Object.entries(shape.members ?? {}).flatMap(([member, ref]) => columnsOf(ref.shape, [...path, member], depth + 1));
  }
  const kind = kindOf(shape);
  const item = shape.type === 'list' ? shape.member?.shape : shape.type === 'map' ? shape.value?.shape : undefined;
  return [{ name: path.join('.'), path, kind, ...(item !== undefined ? { item } : {}) }];
}

/** The column of a dotted member path below a structure (its kind from the shape the path ends at). */
function columnAt(root: string, name: string): Column {
  const path = name.split('.');
  let shape = root;
  for (const p of path) shape = SHAPES[shape]?.members?.[p]?.shape ?? '';
  const found = SHAPES[shape];
  if (found === undefined || found.type === 'structure') return { name, path, kind: 'json' };
  const item = found.type === 'list' ? found.member?.shape : found.type === 'map' ? found.value?.shape : undefined;
  return { name, path, kind: kindOf(found), ...(item !== undefined ? { item } : {}) };
}

/** How to export `operation` (a served operation's key), or undefined when it has no single-list paginator. */
export function exportPlan(operation: string): ExportPlan | undefined {
  const paginator = PAGINATORS[operation];
  const op = OPERATIONS[operation];
  if (paginator === undefined || op?.output === undefined || op.input === undefined) return undefined;
  if (typeof paginator.result_key !== 'string' || typeof paginator.input_token !== 'string' || typeof paginator.output_token !== 'string') return undefined;
  const list = SHAPES[op.output]?.members?.[paginator.result_key];
  const member = list === undefined ? undefined : SHAPES[list.shape]?.member?.shape;
  if (member === undefined) return undefined;
  const scalarItems = SHAPES[member]?.type !== 'structure';
  const plan: ExportPlan = {
    operation,
    scalarItems,
    inputToken: paginator.input_token,
    outputToken: paginator.output_token,
    resultKey: paginator.result_key,
    columns: scalarItems ? columnsOf(member, [paginator.result_key], MAX_DEPTH)
      : EXPORT_COLUMNS[operation]?.map((name) => columnAt(member, name)) ?? columnsOf(member, [], 0),
  };
  const limitRef = paginator.limit_key === undefined ? undefined : SHAPES[op.input]?.members?.[paginator.limit_key];
  const max = limitRef === undefined ? undefined : SHAPES[limitRef.shape]?.max;
  if (paginator.limit_key !== undefined && typeof max === 'number') plan.limit = { member: paginator.limit_key, max };
  return plan;
}

/** Operations that can be exported (for error messages and docs). */
export function exportableOperations(): string[] {
  return Object.keys(PAGINATORS).filter((op) => exportPlan(op) !== undefined).sort();
}

const FORMULA_START = /^[=+\-@\t\r]/;

function text(value: unknown, kind: CellKind, item?: string): string {
  if (value === undefined || value === null) return '';
  switch (kind) {
    case 'timestamp':
      return typeof value === 'number' && Number.isFinite(value) ? new Date(value * 1000).toISOString() : String(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'string':
      return String(value);
    case 'list': {
      if (!Array.isArray(value)) return JSON.stringify(value);
      const itemKind = item === undefined ? 'json' : kindOf(SHAPES[item] ?? { type: 'structure' });
      return value.map((v) => text(v, itemKind === 'list' || itemKind === 'map' ? 'json' : itemKind)).join(';');
    }
    case 'map': {
      if (typeof value !== 'object') return String(value);
      const valueKind = item === undefined ? 'json' : kindOf(SHAPES[item] ?? { type: 'structure' });
      return Object.entries(value as Record<string, unknown>)
        .map(([k, v]) => `${k}=${text(v, valueKind === 'list' || valueKind === 'map' ? 'json' : valueKind)}`).join(';');
    }
    case 'json':
      return JSON.stringify(value);
  }
}

/** One CSV field: formula guard for text, then RFC 4180 quoting. */
export function csvField(value: string, isText: boolean): string {
  const guarded = isText && FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

export function headerLine(plan: ExportPlan): string {
  return plan.columns.map((c) => csvField(c.name, false)).join(',') + '\r\n';
}

/** The CSV lines of one page's items. */
export function itemLines(plan: ExportPlan, items: readonly unknown[]): string {
  let out = '';
  for (const item of items) {
    const cells = plan.columns.map((c) => {
      let v: unknown = item;
      if (!plan.scalarItems) for (const p of c.path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
      return csvField(text(v, c.kind, c.item), c.kind !== 'number' && c.kind !== 'boolean' && c.kind !== 'timestamp');
    });
    out += cells.join(',') + '\r\n';
  }
  return out;
}
