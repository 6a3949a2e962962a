/**
 * Interest management on a uniform grid. A viewer standing in cell (cx, cy) sees
 * every entity whose cell is within `radius` cells on both axes (a square of
 * 2*radius+1 cells), plus every entity of a type without x/y.
 *
 * A view is named by a number, the view key: the viewer's cell, or ALL_VIEW
 * when interest is off. Two clients with the same view key at the same tick see
 * exactly the same filtered frame, so they can share one encoded body.
 *
 * Cells are computed from the QUANTIZED position (dequantized), never from the
 * game's floats, so filtering a frame again later (for a baseline) is exact.
 * Entities entering the view reach the client as "created", leaving as
 * "removed": the delta codec needs nothing special.
 */
import { allocFrame, type Frame } from './frame.ts';
import { fieldValue, type Schema } from './schema.ts';

export interface InterestConfig {
  /** Cell edge, in the position fields' real units (u). */
  cellSize: number;
  /** View half-size in cells; Infinity (or enabled: false) = everyone sees everything. */
  radius: number;
  enabled?: boolean;
}

export const INTEREST_OFF: InterestConfig = Object.freeze({ cellSize: 1, radius: Infinity, enabled: false });

/** The view key meaning "everything". Real keys are cy * 65536 + cx >= 0. */
export const ALL_VIEW = -1;

const MAX_CELL = 0xffff;
let keep = new Uint8Array(256); // filterView scratch: which entities are visible

const isOff = (cfg: InterestConfig): boolean => cfg.enabled === false || cfg.radius === Infinity;

/** Cell index on one axis, clamped to [0, MAX_CELL] (NaN -> 0) so a key is always a valid non-negative number. */
const cellOf = (v: number, size: number): number => {
  const c = Math.floor(v / size);
  return c >= 0 ? Math.min(MAX_CELL, c) : 0;
};

/** View key of a viewer at (x, y) in real units. */
export function viewKeyFor(x: number, y: number, cfg: InterestConfig): number {
  if (isOff(cfg)) return ALL_VIEW;
  return cellOf(y, cfg.cellSize) * 65536 + cellOf(x, cfg.cellSize);
}

/**
 * Each entity's cell as (cx, cy) pairs in one Int32Array, cx = -1 for a type
 * without position (always visible). Computed once per frame, shared by all views;
 * int32 so the per-view loop is integer compares only (float % is a slow call in V8).
 */
export function frameCells(schema: Schema, frame: Frame, cfg: InterestConfig): Int32Array {
  const { stride, types } = schema;
  const size = cfg.cellSize;
  const cells = new Int32Array(frame.count * 2);
  for (let i = 0; i < frame.count; i++) {
    const t = types[frame.types[i]];
    if (t.xField < 0) {
      cells[2 * i] = -1;
      continue;
    }
    const o = i * stride;
    const x = fieldValue(t, t.xField, frame.values[o + t.xField]);
    const y = fieldValue(t, t.yField, frame.values[o + t.yField]);
    cells[2 * i] = cellOf(x, size);
    cells[2 * i + 1] = cellOf(y, size);
  }
  return cells;
}

/** The entities of `frame` visible from `viewKey`; the same frame object when all are. */
export function filterView(
  schema: Schema,
  frame: Frame,
  viewKey: number,
  cfg: InterestConfig,
  cells = frameCells(schema, frame, cfg),
): Frame {
  if (viewKey === ALL_VIEW || isOff(cfg)) return frame;
  const vx = viewKey % 65536;
  const vy = (viewKey - vx) / 65536;
  const r = cfg.radius;
  if (keep.length < frame.count) keep = new Uint8Array(frame.count * 2);
  let n = 0;
  for (let i = 0; i < frame.count; i++) {
    const cx = cells[2 * i];
    const visible = cx < 0 || (Math.abs(cx - vx) <= r && Math.abs(cells[2 * i + 1] - vy) <= r);
    keep[i] = visible ? 1 : 0;
    if (visible) n++;
  }
  if (n === frame.count) return frame;
  const stride = schema.stride;
  const out = allocFrame(frame.tick, n, stride);
  const { ids, types: outTypes, values } = out;
  for (let i = 0, j = 0; i < frame.count; i++) {
    if (!keep[i]) continue;
    ids[j] = frame.ids[i];
    outTypes[j] = frame.types[i];
    for (let f = 0, from = i * stride, to = j * stride; f < stride; f++) values[to + f] = frame.values[from + f]; // no subarray garbage
    j++;
  }
  return out;
}


/**
 * Memoizes filterView per (frame, view key), so a tick filters each distinct view
 * once however many clients share it, and a baseline view is rebuilt once per
 * frame. Entries die with their frame (WeakMap), i.e. when it leaves the history.
 */
export class ViewCache {
  private readonly byFrame = new WeakMap<Frame, { cells: Int32Array; views: Map<number, Frame> }>();

  constructor(
    private readonly schema: Schema,
    readonly cfg: InterestConfig = INTEREST_OFF,
  ) {}

  get(frame: Frame, viewKey: number): Frame {
    if (viewKey === ALL_VIEW || isOff(this.cfg)) return frame;
    let entry = this.byFrame.get(frame);
    if (!entry) {
      entry = { cells: frameCells(this.schema, frame, this.cfg), views: new Map() };
      this.byFrame.set(frame, entry);
    }
    let view = entry.views.get(viewKey);
    if (!view) {
      view = filterView(this.schema, frame, viewKey, this.cfg, entry.cells);
      entry.views.set(viewKey, view);
    }
    return view;
  }

  viewKeyFor(x: number, y: number): number {
    return viewKeyFor(x, y, this.cfg);
  }
}
