/**
 * Reads a V8 .cpuprofile (written by `node --cpu-prof`) and ranks functions by self time,
 * with dist/*.js locations mapped back to the TypeScript sources through the .js.map files
 * tsc writes, so the list points at code engineers edit.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapping, type SourceMapPayload } from 'node:module';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  /** 0-based, in the generated (dist) file. */
  readonly lineNumber: number;
  readonly columnNumber: number;
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  /** Microseconds since the previous sample (the first: since startTime). */
  readonly timeDeltas: readonly number[];
}

export interface FunctionCost {
  readonly name: string;
  readonly location: string;
  readonly area: string;
  readonly selfMs: number;
}

export interface ProfileSummary {
  readonly sampledMs: number;
  /** Time the event loop waited for I/O; excluded from the percentages. */
  readonly idleMs: number;
  readonly functions: readonly FunctionCost[];
  readonly areas: ReadonlyArray<{ readonly area: string; readonly selfMs: number }>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number');
}

function toNode(value: unknown): ProfileNode {
  if (!isRecord(value) || typeof value.id !== 'number' || !isRecord(value.callFrame)) {
    throw new Error('cpuprofile: malformed node');
  }
  const frame = value.callFrame;
  if (typeof frame.functionName !== 'string' || typeof frame.url !== 'string'
    || typeof frame.lineNumber !== 'number' || typeof frame.columnNumber !== 'number') {
    throw new Error(`cpuprofile: malformed call frame in node ${value.id}`);
  }
  const children = value.children ?? [];
  if (!isNumberArray(children)) throw new Error(`cpuprofile: bad children in node ${value.id}`);
  return { id: value.id, callFrame: { functionName: frame.functionName, url: frame.url,
    lineNumber: frame.lineNumber, columnNumber: frame.columnNumber }, children };
}

export function parseCpuProfile(text: string): CpuProfile {
  const value: unknown = JSON.parse(text);
  if (!isRecord(value) || !Array.isArray(value.nodes) || !isNumberArray(value.samples)
    || !isNumberArray(value.timeDeltas) || typeof value.startTime !== 'number'
    || typeof value.endTime !== 'number') {
    throw new Error('cpuprofile: expected nodes, samples, timeDeltas, startTime, endTime');
  }
  if (value.samples.length !== value.timeDeltas.length) {
    throw new Error('cpuprofile: samples and timeDeltas differ in length');
  }
  return { nodes: value.nodes.map(toNode), startTime: value.startTime, endTime: value.endTime,
    samples: value.samples, timeDeltas: value.timeDeltas };
}

/**
 * Self time per profile node. Sample i stands for the interval up to the next sample (the
 * convention Chrome DevTools uses); the last one lasts until the profile's end.
 */
export function selfTimesUs(profile: CpuProfile): Map<number, number> {
  const selfUs = new Map<number, number>();
  let timestamp = profile.startTime;
  const stamps = profile.timeDeltas.map((delta) => (timestamp += delta));
  for (let index = 0; index < profile.samples.length; index++) {
    const id = profile.samples[index] ?? -1;
    const start = stamps[index] ?? profile.endTime;
    const next = stamps[index + 1] ?? profile.endTime;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, next - start));
  }
  return selfUs;
}

export interface Located {
  readonly location: string;
  readonly area: string;
}

/** Maps a call frame to "src/server/connection.ts:120" and a coarse area for the breakdown. */
export function sourceLocator(repositoryRoot: string): (frame: CallFrame) => Located {
  const maps = new Map<string, SourceMap | undefined>();
  const mapFor = (file: string): SourceMap | undefined => {
    if (!maps.has(file)) {
      const mapFile = `${file}.map`;
      const payload = existsSync(mapFile)
        ? JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload : undefined;
      maps.set(file, payload === undefined ? undefined : new SourceMap(payload));
    }
    return maps.get(file);
  };
  return (frame) => {
    if (frame.url === '') return { location: '', area: nativeArea(frame.functionName) };
    if (frame.url.startsWith('node:')) {
      return { location: `${frame.url}:${frame.lineNumber + 1}`, area: 'node internals' };
    }
    const file = frame.url.startsWith('file:') ? fileURLToPath(frame.url) : frame.url;
    const entry = isAbsolute(file) ? mapFor(file)?.findEntry(frame.lineNumber,
      frame.columnNumber) : undefined;
    let path = file;
    let line = frame.lineNumber + 1;
    if (entry !== undefined && isMapping(entry)) {
      const source = entry.originalSource.startsWith('file:')
        ? fileURLToPath(entry.originalSource) : resolve(dirname(file), entry.originalSource);
      path = source;
      line = entry.originalLine + 1;
    }
    const shown = isAbsolute(path) ? relative(repositoryRoot, path) : path;
    return { location: `${shown}:${line}`, area: areaOf(shown) };
  };
}

/** findEntry returns {} when the position has no mapping. */
function isMapping(entry: SourceMapping | object): entry is SourceMapping {
  return 'originalSource' in entry && 'originalLine' in entry;
}

function nativeArea(functionName: string): string {
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return '(program): V8/native, no JS frame';
  return 'native code (C++ bindings, builtins)';
}

/** "src/server/x.ts" -> "src/server"; "node_modules/@scope/pkg/..." -> "@scope/pkg". */
function areaOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'src') return parts.length > 2 ? `src/${parts[1] ?? ''}` : 'src';
  const modules = parts.lastIndexOf('node_modules');
  if (modules >= 0) {
    const name = parts[modules + 1] ?? '';
    return name.startsWith('@') ? `${name}/${parts[modules + 2] ?? ''}` : name;
  }
  return 'other';
}

/** Frames V8 reports without a URL that are not calls into native code. */
const PSEUDO_FRAMES = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

/**
 * Native functions (socket writes, LMDB bindings) have no location of their own; name the
 * nearest caller outside Node's internals instead, which is code an engineer can change.
 */
function callerOf(node: ProfileNode, parents: ReadonlyMap<number, ProfileNode>,
    locate: (frame: CallFrame) => Located): string {
  let internal: ProfileNode | undefined;
  for (let parent = parents.get(node.id); parent !== undefined; parent = parents.get(parent.id)) {
    const url = parent.callFrame.url;
    if (url === '') continue;
    if (url.startsWith('node:')) {
      internal ??= parent;
      continue;
    }
    return `native, from ${describeFrame(parent, locate)}`;
  }
  return internal === undefined ? 'native' : `native, from ${describeFrame(internal, locate)}`;
}

function describeFrame(node: ProfileNode, locate: (frame: CallFrame) => Located): string {
  const name = node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName;
  return `${name} ${locate(node.callFrame).location}`;
}

export function summariseProfile(profile: CpuProfile,
    locate: (frame: CallFrame) => Located): ProfileSummary {
  const selfUs = selfTimesUs(profile);
  const parents = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    for (const child of node.children) parents.set(child, node);
  }
  const byFunction = new Map<string, FunctionCost>();
  let idleUs = 0;
  let sampledUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    sampledUs += us;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    if (us === 0) continue;
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const located = locate(frame);
    const native = frame.url === '' && !PSEUDO_FRAMES.has(frame.functionName);
    const location = native ? callerOf(node, parents, locate) : located.location;
    // The same function reached through different call paths is one entry.
    const key = `${name}\u0000${location}`;
    const previous = byFunction.get(key);
    byFunction.set(key, { name, location, area: located.area,
      selfMs: (previous?.selfMs ?? 0) + us / 1000 });
  }
  const functions = [...byFunction.values()].sort((a, b) => b.selfMs - a.selfMs);
  const areaMs = new Map<string, number>();
  for (const cost of functions) areaMs.set(cost.area, (areaMs.get(cost.area) ?? 0) + cost.selfMs);
  const areas = [...areaMs].map(([area, selfMs]) => ({ area, selfMs }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { sampledMs: sampledUs / 1000, idleMs: idleUs / 1000, functions, areas };
}

export function formatProfile(summary: ProfileSummary, top: number): string {
  const busyMs = summary.sampledMs - summary.idleMs;
  const percent = (ms: number): string =>
    busyMs > 0 ? `${((100 * ms) / busyMs).toFixed(1)}%` : 'n/a';
  const lines = [
    `sampled ${(summary.sampledMs / 1000).toFixed(1)} s, idle ${(summary.idleMs / 1000)
      .toFixed(1)} s, busy ${(busyMs / 1000).toFixed(1)} s (percentages are of busy time)`,
    '',
    `top ${top} functions by self time:`,
    '| # | self ms | self % | function | location |',
    '| ---: | ---: | ---: | --- | --- |',
  ];
  summary.functions.slice(0, top).forEach((cost, index) => {
    lines.push(`| ${index + 1} | ${cost.selfMs.toFixed(0)} | ${percent(cost.selfMs)} | `
      + `${cost.name} | ${cost.location} |`);
  });
  lines.push('', 'self time by area:', '| area | self ms | self % |', '| --- | ---: | ---: |');
  // Areas under 0.1% (pino's helpers, native addon loaders) are noise in this table.
  for (const { area, selfMs } of summary.areas.filter((entry) => entry.selfMs >= busyMs / 1000)) {
    lines.push(`| ${area} | ${selfMs.toFixed(0)} | ${percent(selfMs)} |`);
  }
  return lines.join('\n');
}
