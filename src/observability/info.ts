/**
 * INFO: Redis 7's sections and the fields exporters, clients and tools read (COMPAT.md A3),
 * each computed from the component that owns the number. `# Section` headers, `field:value`
 * lines joined by CRLF, sections separated by a blank line, as Redis formats them.
 */
import { arch, platform, release, freemem, totalmem } from 'node:os';
import type {
  ClientRegistry,
  InfoService,
  ServerIdentity,
  ServerStats,
} from '../commands/context.js';
import type { Config } from '../config/config.js';
import { DATABASES_COUNT } from '../config/limits.js';

export interface InfoSources {
  identity: ServerIdentity;
  config: Config;
  stats: ServerStats;
  clients: ClientRegistry;
  executable: string;
  tcpPort(): number;
  loading(): boolean;
  /** Keys and keys with expiry in a database. */
  keyspace(db: number): { keys: number; expires: number };
  keyspaceHits(): number;
  keyspaceMisses(): number;
  expiredKeys(): number;
  changesSinceSave(): number;
  lastSaveUnixSeconds(): number;
  bgsaveInProgress(): boolean;
  storageBytes(): number;
  /** Our own section's fields (`# RingKV`). */
  ringkv(): Array<[string, string | number]>;
  /** Cluster section fields beyond cluster_enabled. */
  clusterEnabled(): boolean;
  nowMs(): number;
  /** Refused AUTHs, commands and keys (ACL); zeros when not given. */
  aclDenials?: () => { auth: number; command: number; key: number };
}

type Section = [string, Array<[string, string | number]>];

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication',
  'cpu', 'modules', 'errorstats', 'cluster', 'keyspace', 'ringkv'];
const ALL_SECTIONS = [...DEFAULT_SECTIONS.slice(0, 8), 'commandstats', 'errorstats',
  'latencystats', ...DEFAULT_SECTIONS.slice(9)];

export class Info implements InfoService {
  constructor(private readonly sources: InfoSources) {}

  render(requested: readonly string[]): string {
    const wanted = this.sectionsFor(requested);
    const parts: string[] = [];
    for (const name of wanted) {
      const section = this.section(name);
      if (section === null) continue;
      const [title, fields] = section;
      const lines = [`# ${title}`];
      for (const [field, value] of fields) lines.push(`${field}:${value}`);
      parts.push(lines.join('\r\n'));
    }
    return parts.length === 0 ? '' : `${parts.join('\r\n\r\n')}\r\n`;
  }

  private sectionsFor(requested: readonly string[]): string[] {
    if (requested.length === 0 || requested.includes('default')) {
      return requested.length <= 1 ? DEFAULT_SECTIONS : unique([...DEFAULT_SECTIONS,
        ...requested.filter((name) => name !== 'default')]);
    }
    if (requested.includes('all') || requested.includes('everything')) return ALL_SECTIONS;
    return unique(requested);
  }

  private section(name: string): Section | null {
    switch (name) {
      case 'server': return ['Server', this.server()];
      case 'clients': return ['Clients', this.clients()];
      case 'memory': return ['Memory', this.memory()];
      case 'persistence': return ['Persistence', this.persistence()];
      case 'stats': return ['Stats', this.stats()];
      case 'replication': return ['Replication', this.replication()];
      case 'cpu': return ['CPU', this.cpu()];
      case 'modules': return ['Modules', []];
      case 'commandstats': return ['Commandstats', this.commandstats()];
      case 'errorstats': return ['Errorstats', this.errorstats()];
      case 'latencystats': return ['Latencystats', this.latencystats()];
      case 'cluster':
        return ['Cluster', [['cluster_enabled', this.sources.clusterEnabled() ? 1 : 0]]];
      case 'keyspace': return ['Keyspace', this.keyspace()];
      case 'ringkv': return ['RingKV', this.sources.ringkv()];
      default: return null;
    }
  }

  private server(): Array<[string, string | number]> {
    const { identity, config } = this.sources;
    const uptimeSeconds = Math.floor((this.sources.nowMs() - this.sources.stats.startedMs) / 1000);
    const hz = Math.min(500, Math.max(1, config.integer('hz')));
    return [
      ['redis_version', identity.redisVersion],
      ['redis_git_sha1', '00000000'],
      ['redis_git_dirty', 0],
      ['redis_build_id', 'ringkv'],
      ['redis_mode', identity.mode],
      ['os', `${platform() === 'linux' ? 'Linux' : platform()} ${release()} ${arch()}`],
      ['arch_bits', process.arch.includes('64') ? 64 : 32],
      ['monotonic_clock', 'POSIX clock_gettime'],
      ['multiplexing_api', 'epoll'],
      ['process_id', process.pid],
      ['process_supervised', 'no'],
      ['run_id', identity.runId],
      ['tcp_port', this.sources.tcpPort()],
      ['server_time_usec', this.sources.nowMs() * 1000],
      ['uptime_in_seconds', uptimeSeconds],
      ['uptime_in_days', Math.floor(uptimeSeconds / 86400)],
      ['hz', hz],
      ['configured_hz', hz],
      ['executable', this.sources.executable],
      ['config_file', config.configFile ?? ''],
      ['ringkv_version', RINGKV_VERSION],
      ['node_version', process.version],
    ];
  }

  private clients(): Array<[string, string | number]> {
    return [
      ['connected_clients', this.sources.clients.connectedCount],
      ['cluster_connections', 0],
      ['maxclients', this.sources.config.integer('maxclients')],
      ['client_recent_max_input_buffer', 0],
      ['client_recent_max_output_buffer', 0],
      ['blocked_clients', 0],
      ['pubsub_clients', 0],
      ['tracking_clients', 0],
      ['clients_in_timeout_table', 0],
    ];
  }

  private memory(): Array<[string, string | number]> {
    const usage = process.memoryUsage();
    const used = usage.heapUsed + usage.external;
    return [
      ['used_memory', used],
      ['used_memory_human', human(used)],
      ['used_memory_rss', usage.rss],
      ['used_memory_rss_human', human(usage.rss)],
      ['used_memory_peak', Math.max(used, peakMemory.observe(used))],
      ['used_memory_peak_human', human(peakMemory.value)],
      ['used_memory_dataset', this.sources.storageBytes()],
      ['total_system_memory', totalmem()],
      ['total_system_memory_human', human(totalmem())],
      ['free_system_memory', freemem()],
      ['maxmemory', 0],
      ['maxmemory_human', '0B'],
      ['maxmemory_policy', 'noeviction'],
      ['mem_fragmentation_ratio', (usage.rss / Math.max(1, used)).toFixed(2)],
      ['mem_allocator', 'v8'],
      ['storage_engine', 'lmdb'],
      ['storage_file_bytes', this.sources.storageBytes()],
    ];
  }

  private persistence(): Array<[string, string | number]> {
    const loading = this.sources.loading();
    return [
      ['loading', loading ? 1 : 0],
      ['async_loading', 0],
      ['current_cow_peak', 0],
      ['rdb_changes_since_last_save', this.sources.changesSinceSave()],
      ['rdb_bgsave_in_progress', this.sources.bgsaveInProgress() ? 1 : 0],
      ['rdb_last_save_time', this.sources.lastSaveUnixSeconds()],
      ['rdb_last_bgsave_status', 'ok'],
      ['aof_enabled', 1],
      ['aof_rewrite_in_progress', 0],
      ['aof_last_write_status', 'ok'],
      ['appendfsync', this.sources.config.value('appendfsync')],
      ...(loading ? [['loading_eta_seconds', 1] as [string, number]] : []),
    ];
  }

  private stats(): Array<[string, string | number]> {
    const stats = this.sources.stats;
    return [
      ['total_connections_received', stats.connectionsReceived],
      ['total_commands_processed', stats.commandsProcessed],
      ['instantaneous_ops_per_sec', opsMeter.sample(stats.commandsProcessed, this.sources.nowMs())],
      ['total_net_input_bytes', stats.netInputBytes],
      ['total_net_output_bytes', stats.netOutputBytes],
      ['rejected_connections', stats.rejectedConnections],
      ['expired_keys', this.sources.expiredKeys()],
      ['evicted_keys', 0],
      ['keyspace_hits', this.sources.keyspaceHits()],
      ['keyspace_misses', this.sources.keyspaceMisses()],
      ['pubsub_channels', 0],
      ['pubsub_patterns', 0],
      ['total_error_replies', stats.errorReplies],
      // Redis 7.2's ACL counters (7.0.15 has none); channels are never checked here.
      ...aclCounters(this.sources.aclDenials?.() ?? { auth: 0, command: 0, key: 0 }),
    ];
  }

  private replication(): Array<[string, string | number]> {
    return [
      ['role', 'master'],
      ['connected_slaves', 0],
      ['master_failover_state', 'no-failover'],
      ['master_replid', this.sources.identity.runId],
      ['master_replid2', '0000000000000000000000000000000000000000'],
      ['master_repl_offset', 0],
      ['second_repl_offset', -1],
      ['repl_backlog_active', 0],
    ];
  }

  private cpu(): Array<[string, string | number]> {
    const usage = process.cpuUsage();
    return [
      ['used_cpu_sys', (usage.system / 1e6).toFixed(6)],
      ['used_cpu_user', (usage.user / 1e6).toFixed(6)],
      ['used_cpu_sys_children', '0.000000'],
      ['used_cpu_user_children', '0.000000'],
    ];
  }

  private commandstats(): Array<[string, string]> {
    const rows: Array<[string, string]> = [];
    for (const [name, counters] of this.sources.stats.commandCounters) {
      const perCall = counters.calls === 0 ? 0 : counters.usec / counters.calls;
      rows.push([`cmdstat_${name}`, `calls=${counters.calls},usec=${counters.usec},` +
        `usec_per_call=${perCall.toFixed(2)},rejected_calls=${counters.rejectedCalls},` +
        `failed_calls=${counters.failedCalls}`]);
    }
    return rows;
  }

  private latencystats(): Array<[string, string]> {
    const rows: Array<[string, string]> = [];
    for (const [name, counters] of this.sources.stats.commandCounters) {
      const histogram = counters.latency;
      if (histogram.count === 0) continue;
      const usec = (percent: number): string => (histogram.percentile(percent) / 1000).toFixed(3);
      rows.push([`latency_percentiles_usec_${name}`,
        `p50=${usec(50)},p99=${usec(99)},p99.9=${usec(99.9)}`]);
    }
    return rows;
  }

  private errorstats(): Array<[string, string]> {
    const rows: Array<[string, string]> = [];
    for (const [prefix, count] of this.sources.stats.errorCounts) {
      rows.push([`errorstat_${prefix}`, `count=${count}`]);
    }
    return rows;
  }

  private keyspace(): Array<[string, string]> {
    const rows: Array<[string, string]> = [];
    for (let db = 0; db < DATABASES_COUNT; db++) {
      const { keys, expires } = this.sources.keyspace(db);
      if (keys > 0) rows.push([`db${db}`, `keys=${keys},expires=${expires},avg_ttl=0`]);
    }
    return rows;
  }
}

export const RINGKV_VERSION = '0.1.0';

function aclCounters(denials: { auth: number; command: number; key: number }):
    Array<[string, number]> {
  return [
    ['acl_access_denied_auth', denials.auth],
    ['acl_access_denied_cmd', denials.command],
    ['acl_access_denied_key', denials.key],
    ['acl_access_denied_channel', 0],
  ];
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[unit]}`;
}

/** Highest used_memory seen by INFO. */
const peakMemory = {
  value: 0,
  observe(used: number): number {
    if (used > this.value) this.value = used;
    return this.value;
  },
};

/** Commands per second between two INFO calls at least 100 ms apart. */
const opsMeter = {
  lastCount: 0,
  lastMs: 0,
  rate: 0,
  sample(count: number, nowMs: number): number {
    if (nowMs - this.lastMs >= 100) {
      if (this.lastMs !== 0) {
        this.rate = Math.round(((count - this.lastCount) * 1000) / (nowMs - this.lastMs));
      }
      this.lastCount = count;
      this.lastMs = nowMs;
    }
    return this.rate;
  },
};
