'use strict';
/*
 * Small helpers shared by the benchmark scripts: timing, percentiles, free ports, CPU and memory readings
 * from /proc. Plain CommonJS so that `npm run bench` needs no build step.
 */
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const { spawnSync } = require('node:child_process');
const { setTimeout: sleep } = require('node:timers/promises');
const { setTimeout, clearTimeout } = require('node:timers');

/** Rejects after `ms` with a message naming what did not finish: every phase of the run is bounded. */
function withTimeout(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Nearest-rank percentiles, min, max and mean of a list of numbers (milliseconds). */
function summarize(values) {
  const n = values.length;
  if (n === 0) return { count: 0, min: null, mean: null, p50: null, p95: null, p99: null, max: null };
  const sorted = Float64Array.from(values).sort();
  const at = (p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: round(sorted[0]),
    mean: round(sum / n),
    p50: round(at(50)),
    p95: round(at(95)),
    p99: round(at(99)),
    max: round(sorted[n - 1]),
  };
}

function round(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return value ?? null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const CLK_TCK = 100; // USER_HZ on Linux

const BENCH_DB = 'kakao_relay_bench';
const postgresGroups = new Map();

/** PostgreSQL backends name their database in the process title: ours, or anything else (other work, WAL, ...). */
function postgresGroup(pid) {
  let group = postgresGroups.get(pid);
  if (group === undefined) {
    let title = '';
    try {
      title = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // gone
    }
    group = title.includes(` ${BENCH_DB} `) ? 'postgres' : 'postgres (other databases, background)';
    if (title.includes(' postgres ')) postgresGroups.set(pid, group); // a backend keeps its database
  }
  return group;
}

/** user+system CPU seconds of every process, by pid, with its command name (one pass over /proc). */
function allProcessCpu() {
  const out = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      let comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (/^(kworker|ksoftirqd)/.test(comm)) comm = 'kernel threads';
      else if (comm === 'postgres') comm = postgresGroup(entry);
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(entry), { comm, seconds: (Number(fields[11]) + Number(fields[12])) / CLK_TCK });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function machineCpu() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] || 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * Samples CPU use during a phase: the relay (or baseline) process, the PostgreSQL backends of the bench
 * database (and, apart, every other postgres process), redis-server,
 * this load-generating process, everything else (by command name: a test suite running meanwhile shows up
 * here), and the machine as a whole. Figures are in "% of one core"; machineBusyPct is of all cores.
 */
function cpuMeter(targetPid) {
  const read = () => ({ t: process.hrtime.bigint(), procs: allProcessCpu(), machine: machineCpu() });
  const start = read();
  return {
    stop() {
      const end = read();
      const wall = Number(end.t - start.t) / 1e9;
      const groups = new Map();
      let target = null;
      for (const [pid, p] of end.procs) {
        const before = start.procs.get(pid);
        const used = p.seconds - (before ? before.seconds : 0);
        if (pid === targetPid) {
          target = used;
          continue;
        }
        const group = pid === process.pid ? '(load generator)' : p.comm;
        groups.set(group, (groups.get(group) || 0) + used);
      }
      const pct = (seconds) => round((seconds / wall) * 100, 1);
      const take = (name) => {
        const v = groups.get(name) || 0;
        groups.delete(name);
        return pct(v);
      };
      const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
      const machineBusy = (end.machine.busy - start.machine.busy) / (end.machine.total - start.machine.total);
      const postgresPct = take('postgres');
      const postgresOtherPct = take('postgres (other databases, background)');
      const redisPct = take('redis-server');
      const loadGeneratorPct = take('(load generator)');
      const others = [...groups.entries()]
        .filter(([, v]) => pct(v) >= 2)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([comm, v]) => ({ comm, pct: pct(v) }));
      return {
        seconds: round(wall, 2),
        targetPct: target === null ? null : pct(target),
        targetCpuSeconds: target === null ? null : round(target, 3),
        postgresPct,
        postgresOtherPct,
        redisPct,
        loadGeneratorPct,
        othersPct: others,
        machineBusyPct: round(machineBusy * 100, 1),
        cores,
      };
    },
  };
}

/** VmRSS of a process in KiB, from /proc/<pid>/status. */
function rssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Polls `check` every `everyMs` until it returns truthy or `ms` passed; resolves with the last value. */
async function waitUntil(check, ms, everyMs = 20) {
  const deadline = Date.now() + ms;
  let value = await check();
  while (!value && Date.now() < deadline) {
    await sleep(everyMs);
    value = await check();
  }
  return value;
}

/**
 * Waits (at most `maxMs`) until the machine is quiet: under `busyPct` % of all cores busy over one second.
 * Other work on the machine (a test suite, a build) would otherwise end up in the figures.
 */
async function waitForQuiet(maxMs, busyPct = 20) {
  const started = Date.now();
  for (;;) {
    const a = machineCpu();
    await sleep(1000);
    const b = machineCpu();
    const busy = round(((b.busy - a.busy) / (b.total - a.total)) * 100, 1);
    const waitedMs = Date.now() - started;
    if (busy < busyPct) return { waitedMs, busyPct: busy, quiet: true, calibrationMs: cpuCalibrationMs() };
    if (waitedMs >= maxMs)
      return { waitedMs, busyPct: busy, quiet: false, calibrationMs: cpuCalibrationMs() };
  }
}

/**
 * Writes the kernel's dirty pages out (`sync`) and says how much there was (`Dirty` + `Writeback` of
 * /proc/meminfo, KiB) and how long it took. Before each phase: otherwise the rows of the phases before it (an
 * ingest run stores ~13,000 in 10 s) reach the disk while it runs, 30 s after they were written, and a WAL flush
 * that queues behind that writeback stalls every commit for as long (seen on a VM: 100–190 ms, which put the
 * bare baseline's own p99 at 1,000/s at 92–120 ms). Null when `sync` is not there (not Linux).
 */
function flushDirtyPages() {
  const dirtyKiB = () => {
    try {
      const meminfo = fs.readFileSync('/proc/meminfo', 'utf8');
      const kib = (name) => Number((new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(meminfo) || [0, 0])[1]);
      return kib('Dirty') + kib('Writeback');
    } catch {
      return null;
    }
  };
  const before = dirtyKiB();
  const started = Date.now();
  const r = spawnSync('sync', [], { stdio: 'ignore', timeout: 30_000 });
  if (r.error || r.status !== 0) return null;
  return { dirtyKiB: before, syncMs: Date.now() - started };
}

/**
 * A CPU speed index of the moment: milliseconds a fresh Node process needs for a fixed single-threaded workload
 * (JSON round trips of a Kakao-sized object; best of 3). In a separate process so that this process's heap and
 * handles do not colour it. On a shared VM the same work takes noticeably longer at times; this tells when.
 */
const CALIBRATION = `
const sample = {
  userRequest: { utterance: 'x'.repeat(40), user: { id: 'u'.repeat(64), properties: { a: 1, b: true } } },
  bot: { id: 'b'.repeat(24), name: 'bot' },
  action: { params: {}, detailParams: {}, clientExtra: {} },
  list: Array.from({ length: 20 }, (_, i) => ({ i, s: 'item-' + i })),
};
let best = Infinity;
for (let round = 0; round < 4; round++) {
  const t = process.hrtime.bigint();
  let n = 0;
  for (let i = 0; i < 5000; i++) n += JSON.parse(JSON.stringify(sample)).list.length;
  if (round > 0) best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
}
process.stdout.write(String(best));
`;
function cpuCalibrationMs() {
  const r = spawnSync(process.execPath, ['-e', CALIBRATION], { encoding: 'utf8', timeout: 20_000 });
  const ms = Number(r.stdout);
  return Number.isFinite(ms) && ms > 0 ? round(ms, 1) : null;
}

module.exports = {
  cpuCalibrationMs,
  flushDirtyPages,
  waitForQuiet,
  withTimeout,
  summarize,
  round,
  freePort,
  cpuMeter,
  rssKiB,
  mapLimit,
  waitUntil,
  sleep,
};
