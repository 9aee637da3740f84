// A container's custom hostnames (Cloudflare for SaaS), kept in its ContainerState object beside the config state:
// one row per host with what Cloudflare last reported. The object reads them on every KV sync, because a host whose
// custom hostname is not verified must not be in SITE_REGISTRY (nobody may route a domain they have not proven).
// Hosts without a row are operator-managed DNS and behave as before.

/** pending | active | failed map Cloudflare's statuses; removed = deleted at Cloudflare, host held back. */
export type HostnameState = "pending" | "active" | "failed" | "removed";

export interface DnsRecord {
  type: "CNAME" | "TXT";
  name: string;
  value: string;
  /** traffic: the CNAME to the SaaS target; ownership: proves the domain; certificate: lets the CA issue. */
  purpose: "traffic" | "ownership" | "certificate";
}

export interface HostnameRecord {
  host: string;
  state: HostnameState;
  /** The operator's override (PUT …?live=now): the host is live whatever Cloudflare says. */
  liveNow: boolean;
  /** When Cloudflare first reported it active (ownership proven). A later pending, such as a renewal, keeps it live. */
  activatedAt: string | null;
  cloudflare: { id: string; status: string; sslStatus: string | null } | null;
  /** Cloudflare's verification and certificate validation errors, plus what a failed state means. */
  errors: string[];
  dnsRecords: DnsRecord[];
  checkedAt: string;
}

/** May the host be in SITE_REGISTRY? */
export function isLive(record: HostnameRecord): boolean {
  if (record.state === "removed") return false;
  if (record.liveNow || record.state === "active") return true;
  return record.state === "pending" && record.activatedAt !== null;
}

/** The short form container status shows. */
export function hostnameSummary(record: HostnameRecord) {
  return {
    host: record.host,
    state: record.state,
    live: isLive(record),
    liveNow: record.liveNow,
    errors: record.errors,
    checkedAt: record.checkedAt,
  };
}

export function createHostnameTable(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS custom_hostnames (host TEXT PRIMARY KEY, record TEXT NOT NULL)");
}

export function readHostnames(sql: SqlStorage): HostnameRecord[] {
  return sql
    .exec<{ record: string }>("SELECT record FROM custom_hostnames ORDER BY host")
    .toArray()
    .map((row) => JSON.parse(row.record) as HostnameRecord);
}

export function writeHostname(sql: SqlStorage, record: HostnameRecord): void {
  sql.exec("INSERT OR REPLACE INTO custom_hostnames (host, record) VALUES (?, ?)", record.host, JSON.stringify(record));
}

/** Public hosts the KV sync leaves out of SITE_REGISTRY. */
export function withheldHosts(sql: SqlStorage): Set<string> {
  return new Set(
    readHostnames(sql)
      .filter((record) => !isLive(record))
      .map((record) => record.host),
  );
}
