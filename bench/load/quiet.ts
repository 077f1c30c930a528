/**
 * Waits, before a measured run, until the machine's CPUs have been nearly idle for a moment:
 * the run before it (another system's, or another cluster's) leaves work behind, e.g. a
 * RingKV cluster's LMDB writers commit the last two seconds of writes and its nodes catch
 * up on replication, ~0.25 s of CPU in the second after a load ends. Without the wait that
 * work lands in whichever system runs next. Reads /proc/stat (Linux); elsewhere it returns
 * at once.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Busy share of all CPUs (0..1) over a sampling window below which the machine is quiet. */
const QUIET_BUSY_SHARE = 0.15;
const SAMPLE_MS = 250;
/** Consecutive quiet samples wanted. */
const QUIET_SAMPLES = 2;
/** Past this the run starts anyway (a machine busy with others' work never goes quiet). */
const WAIT_MS_MAX = 10_000;

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes | null {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal ...
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 5 || fields.some((value) => !Number.isFinite(value))) return null;
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] as number) + (fields[4] as number);
  return { busy: total - idle, total };
}

/** The wait, as the results files describe it. */
export const QUIET_WAIT_TEXT = `Each measured run starts once the CPUs have been under `
  + `${QUIET_BUSY_SHARE * 100} % busy for ${QUIET_SAMPLES * SAMPLE_MS} ms (at most `
  + `${WAIT_MS_MAX / 1000} s of waiting), so that no run inherits the previous one's `
  + 'leftover work. ';

/** Milliseconds waited (0 when /proc/stat cannot be read). */
export async function waitForQuietMachine(): Promise<number> {
  const started = Date.now();
  let previous = cpuTimes();
  if (previous === null) return 0;
  let quiet = 0;
  while (quiet < QUIET_SAMPLES && Date.now() - started < WAIT_MS_MAX) {
    await sleep(SAMPLE_MS);
    const current = cpuTimes();
    if (current === null) return Date.now() - started;
    const total = current.total - previous.total;
    const share = total > 0 ? (current.busy - previous.busy) / total : 0;
    quiet = share < QUIET_BUSY_SHARE ? quiet + 1 : 0;
    previous = current;
  }
  return Date.now() - started;
}
