/**
 * Pure parsers of HAProxy Runtime API output: interactive-mode reply framing, `show stat` CSV and
 * `show servers state` tables. They reject formats they do not know instead of guessing.
 */

/** Output that does not have the expected format. */
export class RuntimeFormatError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RuntimeFormatError";
    }
}

/**
 * The prompt that ends every reply in interactive mode (after the `prompt` command).
 *
 * Observed on HAProxy 2.6.12: each reply is the command's output followed by `"\n> "`. Most outputs
 * end with their own `"\n"` (`"New server registered.\n"`, the CSV of `show stat`), so the stream
 * reads `"New server registered.\n\n> "`; silent successes (`set server … state ready`) are empty,
 * so the stream reads `"\n> "`; a few messages have no final newline (`del server` answers
 * `"Server deleted."`, `"No such server."`), so the stream reads `"Server deleted.\n> "`. The reply to
 * `prompt` itself is empty. A reply is therefore everything up to the next `"\n> "`; this is
 * unambiguous for the commands this library sends because none of their output has a line
 * starting with `"> "`.
 */
export const PROMPT = "\n> ";

/** Splits interactive-mode output into complete replies (prompt removed) and the incomplete rest. */
export function splitReplies(buffer: string): { replies: string[]; rest: string } {
    const replies: string[] = [];
    let start = 0;
    for (let end = buffer.indexOf(PROMPT); end !== -1; end = buffer.indexOf(PROMPT, start)) {
        replies.push(buffer.slice(start, end));
        start = end + PROMPT.length;
    }
    return { replies, rest: buffer.slice(start) };
}

/**
 * Splits CSV text into records of fields (RFC 4180 quoting: `"a,b"`, `""` for a quote). Text
 * without quotes (the usual `show stat` output) takes a fast path.
 */
export function parseCsv(text: string): string[][] {
    if (!text.includes('"')) {
        const lines = text.split("\n");
        if (lines[lines.length - 1] === "") lines.pop();
        return lines.map((line) => line.split(","));
    }
    const records: string[][] = [];
    let record: string[] = [];
    let field = "";
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quoted) {
            if (c === '"' && text[i + 1] === '"') field += text[i++];
            else if (c === '"') quoted = false;
            else field += c;
        } else if (c === '"') quoted = true;
        else if (c === ",") {
            record.push(field);
            field = "";
        } else if (c === "\n") {
            records.push([...record, field]);
            record = [];
            field = "";
        } else field += c;
    }
    if (record.length > 0 || field !== "") records.push([...record, field]);
    return records;
}

/** Parses an integer column value; empty (and `-` where `dash` is true) gives `undefined`. */
function integer(what: string, column: string, value: string, dash = false): number | undefined {
    if (value === "" || (dash && value === "-")) return undefined;
    if (!/^-?\d+$/.test(value)) {
        throw new RuntimeFormatError(`${what}: column ${column} is not an integer: ${JSON.stringify(value)}`);
    }
    return Number(value);
}

/**
 * Reads the `numbers` and `strings` columns of one record into `out`: integers parsed, empty values
 * (and `-` where `dash` is true) `undefined`, columns missing from `index` left out.
 */
function typed<T extends Record<string, string | number | undefined>>(
    out: T,
    what: string,
    index: ReadonlyMap<string, number>,
    record: readonly string[],
    numbers: readonly string[],
    strings: readonly string[],
    dash: boolean,
): T {
    const row: Record<string, string | number | undefined> = out;
    for (const c of numbers) {
        const i = index.get(c);
        if (i !== undefined) row[c] = integer(what, c, record[i] ?? "", dash);
    }
    for (const c of strings) {
        const i = index.get(c);
        if (i === undefined) continue;
        const value = record[i] ?? "";
        row[c] = value === "" || (dash && value === "-") ? undefined : value;
    }
    return out;
}

/** Column name → position. */
function columnIndex(columns: readonly string[]): ReadonlyMap<string, number> {
    return new Map(columns.map((c, i) => [c, i]));
}

const STAT_NUMBERS = [
    "qcur", "qmax", "scur", "smax", "slim", "stot", "weight", "act", "bck", "chkfail", "chkdown", "lastchg",
    "downtime", "iid", "sid", "lbtot", "type", "check_code", "check_duration", "check_rise", "check_fall",
    "check_health", "req_tot", "qlimit", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other",
    "eresp", "econ", "wretr", "wredis", "rtime",
] as const;
const STAT_STRINGS = ["status", "check_status", "check_desc", "last_chk", "addr", "mode", "tracked", "cookie"] as const;

/**
 * One row of `show stat`: the columns below, integers parsed, empty columns `undefined`, `check_status`
 * without the "* " HAProxy puts before it while a check is running. `status` is e.g. `UP`, `UP 1/3`, `DOWN`, `DRAIN`, `MAINT`, `no check`. `weight` is the
 * effective weight (a server in MAINT shows 1 whatever was set); the configured weight is
 * `srv_uweight` of `show servers state`.
 */
export type StatRow = { pxname: string; svname: string } & {
    [K in (typeof STAT_NUMBERS)[number]]?: number;
} & { [K in (typeof STAT_STRINGS)[number]]?: string };

/** Parses the CSV of `show stat` (header line `# pxname,svname,…`). */
export function parseShowStat(csv: string): StatRow[] {
    const [header, ...records] = parseCsv(csv).filter((r) => r.length > 1 || r[0] !== "");
    if (!header || !header[0].startsWith("# ")) {
        throw new RuntimeFormatError(`show stat: expected a "# pxname,svname,…" header, got ${JSON.stringify(csv.slice(0, 80))}`);
    }
    const columns = [header[0].slice(2), ...header.slice(1)];
    if (columns[0] !== "pxname" || columns[1] !== "svname") {
        throw new RuntimeFormatError(`show stat: unsupported header, first columns are not pxname,svname`);
    }
    const index = columnIndex(columns);
    return records.map((record) => {
        const [pxname, svname = ""] = record;
        const what = `show stat row ${pxname}/${svname}`;
        const row = typed({ pxname, svname }, what, index, record, STAT_NUMBERS, STAT_STRINGS, false) as StatRow;
        // HAProxy prefixes the last check's status with "* " while the next check is running.
        if (row.check_status?.startsWith("* ")) row.check_status = row.check_status.slice(2);
        return row;
    });
}

/** The only `show servers state` format version this parser knows. */
export const SERVERS_STATE_VERSION = 1;

const STATE_NUMBERS = [
    "be_id", "srv_id", "srv_op_state", "srv_admin_state", "srv_uweight", "srv_iweight",
    "srv_time_since_last_change", "srv_check_status", "srv_check_result", "srv_check_health",
    "srv_check_state", "srv_agent_state", "srv_port", "srv_use_ssl", "srv_check_port", "srv_agent_port",
] as const;
const STATE_STRINGS = ["srv_addr", "srv_fqdn", "srvrecord", "srv_check_addr", "srv_agent_addr"] as const;

/**
 * One server of `show servers state` (format version 1): the columns below, integers parsed, `-`
 * gives `undefined`. `srv_op_state`: 0 stopped, 1 starting, 2 running, 3 stopping;
 * `srv_admin_state` is HAProxy's bit mask (0x01 forced maint, 0x02 inherited maint, 0x08 drain, …).
 */
export type ServerStateRow = { be_name: string; srv_name: string } & {
    [K in (typeof STATE_NUMBERS)[number]]?: number;
} & { [K in (typeof STATE_STRINGS)[number]]?: string };

/** Parses `show servers state [backend]`; any format version other than 1 is rejected. */
export function parseServersState(text: string): ServerStateRow[] {
    const lines = text.split("\n").filter((l) => l !== "");
    const version = lines[0] ?? "";
    if (!/^\d+$/.test(version)) {
        throw new RuntimeFormatError(`show servers state: expected a format version on the first line, got ${JSON.stringify(version.slice(0, 80))}`);
    }
    if (Number(version) !== SERVERS_STATE_VERSION) {
        throw new RuntimeFormatError(`show servers state: unsupported output format version ${version}`);
    }
    const header = lines[1] ?? "";
    if (!header.startsWith("# be_id be_name srv_id srv_name ")) {
        throw new RuntimeFormatError(`show servers state: unexpected header ${JSON.stringify(header.slice(0, 80))}`);
    }
    const columns = header.slice(2).split(" ");
    const index = columnIndex(columns);
    return lines.slice(2).map((line) => {
        const values = line.split(" ");
        if (values.length !== columns.length) {
            throw new RuntimeFormatError(`show servers state: ${values.length} values for ${columns.length} columns in ${JSON.stringify(line.slice(0, 80))}`);
        }
        const [, be_name, , srv_name] = values;
        const what = `show servers state row ${be_name}/${srv_name}`;
        return typed({ be_name, srv_name }, what, index, values, STATE_NUMBERS, STATE_STRINGS, true) as ServerStateRow;
    });
}

/** The `show stat` row with this `pxname` and `svname`, if present. */
export function findStatRow(rows: readonly StatRow[], backend: string, server: string): StatRow | undefined {
    return rows.find((r) => r.pxname === backend && r.svname === server);
}

/** The `show servers state` row of one server, if present. */
export function findServerState(rows: readonly ServerStateRow[], backend: string, server: string): ServerStateRow | undefined {
    return rows.find((r) => r.be_name === backend && r.srv_name === server);
}

/** Which HAProxy process answered: its pid and start time, from `show info`. */
export interface ProcessIdentity {
    pid: number;
    /** `Start_time_sec` (epoch seconds); absent on versions that do not print it. */
    startTimeSec?: number;
    /** `Version`, e.g. `2.6.12-1+deb12u1`; absent if not printed. */
    version?: string;
}

/** The process identity in a `show info` reply. */
export function parseProcessInfo(text: string): ProcessIdentity {
    const field = (name: string) => new RegExp(`^${name}: *(\\d+)\\s*$`, "m").exec(text)?.[1];
    const pid = field("Pid");
    if (pid === undefined) throw new RuntimeFormatError(`show info: no "Pid:" line in ${JSON.stringify(text.slice(0, 80))}`);
    const start = field("Start_time_sec");
    const version = /^Version: *(\S+)\s*$/m.exec(text)?.[1];
    return { pid: Number(pid), ...(start === undefined ? {} : { startTimeSec: Number(start) }), ...(version === undefined ? {} : { version }) };
}

/** `pid` or `pid@start` for messages and comparisons. */
export function describeProcess(p: ProcessIdentity): string {
    return p.startTimeSec === undefined ? `${p.pid}` : `${p.pid}@${p.startTimeSec}`;
}

/**
 * The ids of the tunnel streams (a WebSocket after its `101`, a `CONNECT`) of `backend`/`server` in a
 * `show sess all` dump: blocks that begin `0x<id>: [`, name `backend=<backend> (` and `server=<server> (`,
 * and show the transaction in tunnel mode (`req.st=MSG_TUNNEL` or `rsp.st=MSG_TUNNEL`).
 */
export function parseTunnels(dump: string, backend: string, server: string): string[] {
    const ids: string[] = [];
    for (const block of dump.split(/\n(?=0x[0-9a-f]+: \[)/)) {
        const id = /^(0x[0-9a-f]+): \[/.exec(block)?.[1];
        if (!id) continue;
        // Validated names hold letters, digits, '-', '_', ':' and '.': only '.' needs escaping.
        const names = (key: string, value: string) => new RegExp(`^\\s+${key}=${value.replace(/\./g, "\\.")} \\(`, "m").test(block);
        if (names("backend", backend) && names("server", server) && /\b(req|rsp)\.st=MSG_TUNNEL\b/.test(block)) ids.push(id);
    }
    return ids;
}
