// The usual process_* metrics of a Prometheus client (CPU seconds, memory, file descriptors, start
// time), read from Node and, on Linux, /proc/self.

import { readdirSync, readFileSync } from 'node:fs';
import type { Exposition } from './exposition.ts';

const startedAt = Date.now() / 1000 - process.uptime();

function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length - 1; // minus the one readdir itself holds
  } catch {
    return null;
  }
}

function maxFds(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const v = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

function virtualBytes(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[20]); // vsize, field 23 of stat(5)
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

export function addProcessMetrics(e: Exposition): void {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  e.family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.')
    .sample('process_cpu_seconds_total', {}, (cpu.user + cpu.system) / 1e6);
  e.family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.')
    .sample('process_resident_memory_bytes', {}, mem.rss);
  e.family('process_virtual_memory_bytes', 'gauge', 'Virtual memory size in bytes.')
    .sample('process_virtual_memory_bytes', {}, virtualBytes());
  e.family('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.')
    .sample('process_start_time_seconds', {}, Math.round(startedAt * 1000) / 1000);
  e.family('process_open_fds', 'gauge', 'Number of open file descriptors.').sample('process_open_fds', {}, openFds());
  e.family('process_max_fds', 'gauge', 'Maximum number of open file descriptors.').sample('process_max_fds', {}, maxFds());
  e.family('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap in use, in bytes.').sample('nodejs_heap_size_used_bytes', {}, mem.heapUsed);
  e.family('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap allocated, in bytes.').sample('nodejs_heap_size_total_bytes', {}, mem.heapTotal);
}
