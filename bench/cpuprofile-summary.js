'use strict';
/*
 * Where the time goes in a V8 .cpuprofile (as written by --cpu-prof or the inspector's Profiler.stop):
 *   - self time by function (name + file:line), the classic "bottom-up" view;
 *   - self time by module: the npm package (pg, typeorm, express, bullmq, ...), the relay's own source file
 *     (apps/..., libs/...), a Node core module, or V8 itself (GC, builtins like JSON.parse, "(program)");
 *   - self time by owner and by subsystem: each sample is charged to the nearest npm package or relay source file
 *     on its stack (so a socket writev issued by pg counts for pg, a JSON.parse called by bullmq for bullmq), and
 *     owners are grouped into subsystems (HTTP stack, PostgreSQL, Redis/BullMQ, logging, validation, ...);
 *   - socket writes (the native writev/write* functions) by owner: what the syscalls are for;
 *   - inclusive ("total") time by npm package and by relay function: the share of samples with that package or
 *     function anywhere on the stack, i.e. everything it did including what it called. Careful with middleware:
 *     the rest of the chain runs inside its `next()`, so e.g. helmet's inclusive time contains the handlers.
 * Usage: node bench/cpuprofile-summary.js <file.cpuprofile> [--top=N] [--json]
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SPECIAL = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

function fileOf(url) {
  if (!url) return '';
  if (url.startsWith('file://')) return decodeURIComponent(url.slice('file://'.length));
  return url;
}

/** The module a call frame belongs to: npm package, relay source file, node core, or V8. */
function moduleOf(callFrame) {
  const { functionName, url } = callFrame;
  if (SPECIAL.has(functionName)) return functionName;
  if (!url) return '(V8 builtins / native)';
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return `node:${parts[0] === 'internal' ? parts.slice(0, 2).join('/') : parts[0]}`;
  }
  const file = fileOf(url);
  // the relay compiled (dist/, or the bench's private build under node_modules/.cache): name it like the source
  const compiled = /\/dist\/((?:apps|libs)\/.*)$/.exec(file);
  if (compiled) return compiled[1];
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (file.startsWith(ROOT + '/')) return path.relative(ROOT, file);
  return file;
}

function isRelaySource(module) {
  return /^(apps|libs|dist)\//.test(module);
}

/** An owner is an npm package or a source file of ours; node core and V8 are never owners. */
function isOwner(module) {
  return !module.startsWith('node:') && !module.startsWith('(');
}

const SUBSYSTEMS = [
  [
    'HTTP stack (Nest, Express, body parsing, helmet)',
    /^(@nestjs\/(core|common|platform-express)|express|router|body-parser|raw-body|helmet|content-type|iconv-lite|on-finished|finalhandler|type-is|media-typer|mime-types|mime-db|http-errors|depd|statuses|path-to-regexp|qs|send|encodeurl|escape-html|vary|cookie|parseurl|ee-first|forwarded|proxy-addr|ipaddr\.js|setprototypeof|toidentifier|safe-buffer|safer-buffer|accepts|negotiator|merge-descriptors|fresh|range-parser|content-disposition|utils-merge|methods|bytes|unpipe|destroy|rxjs|side-channel.*|call-bind.*|get-intrinsic|es-.*|has-.*|function-bind|gopd|hasown|math-intrinsics|dunder-proto|object-inspect|passport|passport-strategy|@nestjs\/passport)$/,
  ],
  [
    'PostgreSQL (TypeORM, pg)',
    /^(typeorm|@nestjs\/typeorm|pg|pg-pool|pg-protocol|pg-types|pg-int8|postgres-.*|pg-connection-string|buffer-writer|packet-reader)$/,
  ],
  [
    'Redis (BullMQ, ioredis)',
    /^(bullmq|@nestjs\/bullmq|ioredis|redis-parser|redis-errors|msgpackr|cluster-key-slot|denque|standard-as-callback|lodash.*|cron-parser|luxon|uuid|node-abort-controller|semver|tslib)$/,
  ],
  [
    'Logging (pino, nestjs-pino)',
    /^(pino|pino-http|nestjs-pino|@pinojs\/.*|pino-std-serializers|fast-redact|sonic-boom|thread-stream|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify|process-warning|real-require|fast-safe-stringify)$/,
  ],
  [
    'Validation (class-validator, class-transformer)',
    /^(class-validator|class-transformer|validator|libphonenumber-js)$/,
  ],
  ['Metrics (prom-client)', /^(prom-client|tdigest|bintrees)$/],
  ['relay source (apps/, libs/)', /^(apps|libs|dist)\//],
  ['garbage collector', /^\(garbage collector\)$/],
  ['Node.js core, not under any package (HTTP parsing, timers, microtasks)', /^(node:|\(V8 builtins)/],
  ['V8 (program)', /^\(program\)$/],
];

function subsystemOf(owner) {
  for (const [name, re] of SUBSYSTEMS) if (re.test(owner)) return name;
  return `other: ${owner}`;
}

const SOCKET_WRITES = new Set([
  'writev',
  'writeBuffer',
  'writeUtf8String',
  'writeLatin1String',
  'writeAsciiString',
  'writeUcs2String',
]);

function functionKey(callFrame) {
  const name = callFrame.functionName || '(anonymous)';
  if (SPECIAL.has(name)) return name;
  const module = moduleOf(callFrame);
  return `${name} ${module}:${callFrame.lineNumber + 1}`;
}

function summarizeProfile(profile, { top = 25 } = {}) {
  const nodes = new Map();
  const parent = new Map();
  for (const node of profile.nodes) {
    nodes.set(node.id, node);
    for (const child of node.children || []) parent.set(child, node.id);
  }
  const samples = profile.samples || [];
  const deltas = profile.timeDeltas || [];
  const totalUs = profile.endTime - profile.startTime;
  const avg = samples.length ? totalUs / samples.length : 0;

  const selfByFunction = new Map();
  const selfByModule = new Map();
  const selfByOwner = new Map();
  const socketWritesByOwner = new Map();
  const totalByPackage = new Map();
  const totalByRelayFunction = new Map();
  const add = (map, key, us) => map.set(key, (map.get(key) || 0) + us);
  const stackCache = new Map();

  // the modules and relay functions present on the stack of a node (computed once per node)
  const stackOf = (id) => {
    let cached = stackCache.get(id);
    if (cached) return cached;
    const packages = new Set();
    const relayFns = new Set();
    let owner = null;
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = nodes.get(cur).callFrame;
      if (SPECIAL.has(frame.functionName)) continue;
      const module = moduleOf(frame);
      if (owner === null && isOwner(module)) owner = module;
      if (isRelaySource(module)) relayFns.add(functionKey(frame));
      else if (isOwner(module)) packages.add(module);
    }
    cached = { packages, relayFns, owner };
    stackCache.set(id, cached);
    return cached;
  };

  for (let i = 0; i < samples.length; i++) {
    // a sample's duration is the gap to the next sample
    const us = i + 1 < deltas.length ? deltas[i + 1] : avg;
    const frame = nodes.get(samples[i]).callFrame;
    add(selfByFunction, functionKey(frame), us);
    add(selfByModule, moduleOf(frame), us);
    if (!SPECIAL.has(frame.functionName)) {
      const { packages, relayFns, owner } = stackOf(samples[i]);
      for (const p of packages) add(totalByPackage, p, us);
      for (const f of relayFns) add(totalByRelayFunction, f, us);
      add(selfByOwner, owner ?? moduleOf(frame), us);
      if (SOCKET_WRITES.has(frame.functionName)) add(socketWritesByOwner, owner ?? moduleOf(frame), us);
    } else if (frame.functionName !== '(idle)') {
      add(selfByOwner, frame.functionName, us);
    }
  }

  const idleUs = selfByModule.get('(idle)') || 0;
  const busyUs = totalUs - idleUs;
  const rows = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 100) / 10,
        pctOfBusy: busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0,
      }));

  // relay source vs dependencies vs node core vs V8 (self time, busy only)
  const layers = new Map();
  for (const [module, us] of selfByModule) {
    if (module === '(idle)') continue;
    let layer;
    if (isRelaySource(module)) layer = 'relay source (apps/, libs/)';
    else if (module.startsWith('node:')) layer = 'Node.js core (node:*)';
    else if (module === '(garbage collector)') layer = 'garbage collector';
    else if (module.startsWith('(')) layer = 'V8 builtins, native, (program)';
    else layer = 'npm dependencies';
    add(layers, layer, us);
  }

  const bySubsystem = new Map();
  for (const [owner, us] of selfByOwner) add(bySubsystem, subsystemOf(owner), us);
  let socketWritesUs = 0;
  for (const us of socketWritesByOwner.values()) socketWritesUs += us;

  return {
    durationMs: Math.round(totalUs / 1000),
    samples: samples.length,
    idlePct: totalUs > 0 ? Math.round((idleUs / totalUs) * 1000) / 10 : 0,
    busyMs: Math.round(busyUs / 1000),
    note: 'pctOfBusy = share of the non-idle time of the relay main thread',
    layers: rows(layers, 10),
    bySubsystem: rows(bySubsystem, 20),
    selfByOwner: rows(selfByOwner, top),
    socketWrites: {
      ms: Math.round(socketWritesUs / 100) / 10,
      pctOfBusy: busyUs > 0 ? Math.round((socketWritesUs / busyUs) * 1000) / 10 : 0,
      byOwner: rows(socketWritesByOwner, 10),
    },
    selfByModule: rows(new Map([...selfByModule].filter(([m]) => m !== '(idle)')), top),
    selfByFunction: rows(new Map([...selfByFunction].filter(([f]) => f !== '(idle)')), top),
    totalByPackage: rows(totalByPackage, top),
    totalByRelayFunction: rows(totalByRelayFunction, top),
  };
}

function formatSummary(s, top = 25) {
  const lines = [];
  lines.push(
    `profile: ${s.durationMs} ms, ${s.samples} samples, main thread idle ${s.idlePct}% (busy ${s.busyMs} ms)`,
  );
  const table = (title, rows) => {
    lines.push('', title);
    for (const r of rows.slice(0, top)) {
      lines.push(`  ${String(r.pctOfBusy).padStart(5)}%  ${String(r.ms).padStart(8)} ms  ${r.name}`);
    }
  };
  table(
    'self time by subsystem (charged to the nearest npm package / relay file on the stack)',
    s.bySubsystem,
  );
  table('self time by owner (nearest npm package / relay file on the stack)', s.selfByOwner);
  table(
    `socket writes (native writev & co.): ${s.socketWrites.pctOfBusy}% of busy time, by owner`,
    s.socketWrites.byOwner,
  );
  table('self time by layer (where the leaf frame is)', s.layers);
  table('self time by module', s.selfByModule);
  table('self time by function', s.selfByFunction);
  table('inclusive time by npm package (package anywhere on the stack)', s.totalByPackage);
  table('inclusive time by relay function', s.totalByRelayFunction);
  return lines.join('\n');
}

module.exports = { summarizeProfile, formatSummary };

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/cpuprofile-summary.js <file.cpuprofile> [--top=N] [--json]');
    process.exit(2);
  }
  const topArg = process.argv.find((a) => a.startsWith('--top='));
  const top = topArg ? Number(topArg.slice(6)) : 25;
  const summary = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), { top });
  if (process.argv.includes('--json')) console.log(JSON.stringify(summary, null, 2));
  else console.log(formatSummary(summary, top));
}
