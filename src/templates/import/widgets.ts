// A node's saved widget values mapped to its input names, the way the frontend builds its widgets from the
// server's node description: one widget per widget-typed input in declared order (required, then optional),
// none for inputs that only take links or are forceInput; a frontend-only "control" value after seed-like
// integers; a frontend-only "upload" button after the required inputs of nodes that upload files.
import type { NodeInfo } from '../../comfy/http.js';
import { comboOptions } from '../../comfy/combo.js';
import { isRecord } from '../workflow.js';

const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);
const UPLOAD_FLAGS = ['image_upload', 'video_upload', 'audio_upload', 'animated_image_upload'];
/** Old node descriptions do not flag the control companion; the frontend then recognises seeds by name. */
const SEED_NAMES = new Set(['seed', 'noise_seed']);

export interface Widget {
  name: string;
  spec: readonly [unknown, Record<string, unknown>];
  /** The frontend adds a value-less companion after this widget (control_after_generate). */
  control: boolean;
}

type Slot = { kind: 'widget'; widget: Widget } | { kind: 'upload' };

/** The node's widgets in the order the frontend saves their values. */
export function widgetsOf(info: NodeInfo): Widget[] {
  return slotsOf(info).flatMap((slot) => (slot.kind === 'widget' ? [slot.widget] : []));
}

function slotsOf(info: NodeInfo): Slot[] {
  const slots: Slot[] = [];
  for (const section of ['required', 'optional'] as const) {
    const specs = info.input[section] ?? {};
    const order = isRecord(info.input_order) && Array.isArray(info.input_order[section]) ? (info.input_order[section] as string[]) : Object.keys(specs);
    let upload = false;
    for (const name of order) {
      const raw = specs[name];
      if (!Array.isArray(raw)) continue;
      const spec: [unknown, Record<string, unknown>] = [raw[0], isRecord(raw[1]) ? raw[1] : {}];
      const options = spec[1];
      if (options.forceInput === true || !(Array.isArray(spec[0]) || WIDGET_TYPES.has(String(spec[0])))) continue;
      const flagged = options.control_after_generate;
      const control = spec[0] === 'INT' && (flagged === undefined ? SEED_NAMES.has(name) : flagged === true);
      slots.push({ kind: 'widget', widget: { name, spec, control } });
      if (UPLOAD_FLAGS.some((flag) => options[flag] === true)) upload = true;
    }
    if (section === 'required' && upload) slots.push({ kind: 'upload' });
  }
  return slots;
}

export interface MappedWidgets {
  values: Map<string, unknown>;
  /** Widgets the file holds no value for, filled with the server's default. */
  defaulted: string[];
  /** Widgets with neither a saved value nor a default. */
  missing: string[];
}

export function mapWidgetValues(info: NodeInfo, saved: unknown[] | Record<string, unknown> | undefined): MappedWidgets {
  const result: MappedWidgets = { values: new Map(), defaulted: [], missing: [] };
  const fill = (widget: Widget): void => {
    // As in the frontend, a list without a declared default starts on its first entry.
    const fallback = widget.spec[1].default ?? comboOptions(widget.spec)?.[0];
    if (fallback === undefined) result.missing.push(widget.name);
    else {
      result.values.set(widget.name, fallback);
      result.defaulted.push(widget.name);
    }
  };
  const slots = slotsOf(info);
  if (isRecord(saved)) {
    for (const widget of widgetsOf(info)) {
      if (Object.hasOwn(saved, widget.name)) result.values.set(widget.name, saved[widget.name]);
      else fill(widget);
    }
    return result;
  }
  const values = saved ?? [];
  let at = 0;
  for (const [index, slot] of slots.entries()) {
    if (slot.kind === 'upload') {
      // The upload button's saved value ("image") is meaningless to the server; older files omit it.
      if (at < values.length && !fits(nextWidget(slots, index), values[at])) at++;
      continue;
    }
    if (at >= values.length) {
      fill(slot.widget);
      continue;
    }
    result.values.set(slot.widget.name, values[at++]);
    if (slot.widget.control && at < values.length && !fits(nextWidget(slots, index), values[at], true)) at++;
  }
  return result;
}

function nextWidget(slots: readonly Slot[], index: number): Widget | undefined {
  for (const slot of slots.slice(index + 1)) if (slot.kind === 'widget') return slot.widget;
  return undefined;
}

/**
 * Whether `value` belongs to `widget` rather than being a frontend-only companion. For the control companion only a
 * choice list that really contains the value counts (its saved value may be anything, even `true`).
 */
function fits(widget: Widget | undefined, value: unknown, choicesOnly = false): boolean {
  if (!widget) return false;
  const choices = comboOptions(widget.spec);
  if (choices) return choices.includes(value as never);
  if (choicesOnly) return false;
  const type = widget.spec[0];
  if (type === 'STRING') return typeof value === 'string';
  if (type === 'BOOLEAN') return typeof value === 'boolean';
  return typeof value === 'number' || typeof value === 'bigint';
}
