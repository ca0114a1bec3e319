/**
 * Ansible for the Ansible benchmark (scripts/bench/ansibleLab.ts): makes sure it is installed
 * (scripts/setup-ansible.sh, Debian's package), and runs one playbook per operation with
 * `ansible-playbook -c local` against an inventory with one host per load balancer (its admin socket as
 * the host variable `haproxy_socket`), as an operator's inventory lists their HAProxy hosts; Ansible
 * runs the hosts in parallel (5 forks by default) and a task's loop items one after another.
 *
 * Processes are started with execFile and an argument array. A playbook is data: written as JSON (which
 * YAML reads) into a temporary folder, so no value is spliced into YAML or a shell line. The callback in
 * ansible-callbacks/ timestamps the start of the task and each host's result, which separates the task's
 * own time from Ansible's start-up and exit; the process's own start and exit give the raw time.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..");
const CALLBACK_DIR = join(__dirname, "ansible-callbacks");
/** Longest run of one playbook, in ms (the module's longest wait is 25 x 5 s). */
const PLAYBOOK_TIMEOUT_MS = 300_000;

/** Installs Ansible from Debian when `ansible-doc community.general.haproxy` does not work (progress printed). */
export function ensureAnsible(): void {
    const setup = spawnSync("bash", [join(ROOT, "scripts", "setup-ansible.sh")], { stdio: "inherit" });
    if (setup.status !== 0) throw new Error(`scripts/setup-ansible.sh failed (exit ${setup.status ?? setup.signal}); see its output above`);
}

/** When one playbook ran, in epoch ms. */
export interface PlaybookRun {
    /** Just before `ansible-playbook` was started, and when it exited. */
    startedAt: number;
    exitedAt: number;
    /** When its (only) task started, by the callback. */
    taskStartedAt: number;
    /** When the task's result arrived from each host, by the callback. */
    hostsDoneAt: Record<string, number>;
    /** The last host's result: when the task declared its work done on every load balancer. */
    taskEndedAt: number;
}

/** The timestamps the callback printed; pure, exported for tests. */
export function parseTaskTimes(stdout: string): { taskStartedAt?: number; hostsDoneAt: Record<string, number>; failedHosts: string[] } {
    const hostsDoneAt: Record<string, number> = {};
    const failedHosts: string[] = [];
    let taskStartedAt: number | undefined;
    for (const line of stdout.split("\n")) {
        const m = /^BENCH (task-start|host-ok|host-failed|host-unreachable) (\d+) (.*)$/.exec(line.trim());
        if (!m) continue;
        const at = Number(m[2]);
        if (m[1] === "task-start") taskStartedAt ??= at;
        else if (m[1] === "host-ok") hostsDoneAt[m[3]] = at;
        else failedHosts.push(m[3]);
    }
    return { taskStartedAt, hostsDoneAt, failedHosts };
}

/** One play on every host of the inventory, without gathering facts (a runbook of socket commands needs none). */
export type Task = Record<string, unknown> & { name: string };

export class AnsiblePlaybooks {
    private count = 0;

    private constructor(
        private readonly dir: string,
        private readonly inventory: string,
        private readonly hosts: string[],
    ) {}

    /** An inventory of `hosts` (name -> host variables) in a new temporary folder. */
    static async create(hosts: Record<string, Record<string, string>>): Promise<AnsiblePlaybooks> {
        const dir = await mkdtemp(join(tmpdir(), "bench-ansible-"));
        const inventory = join(dir, "inventory.json");
        const vars = Object.fromEntries(Object.entries(hosts).map(([name, v]) => [name, { ansible_python_interpreter: "/usr/bin/python3", ...v }]));
        await writeFile(inventory, JSON.stringify({ all: { hosts: vars } }, null, 2));
        return new AnsiblePlaybooks(dir, inventory, Object.keys(hosts));
    }

    /** Runs `tasks` as one playbook on every host; fails with Ansible's output unless every host succeeded. */
    async run(name: string, tasks: Task[]): Promise<PlaybookRun> {
        const file = join(this.dir, `playbook-${++this.count}.yml`);
        await writeFile(file, JSON.stringify([{ name, hosts: "all", gather_facts: false, tasks }], null, 2));
        const env = {
            ...process.env,
            ANSIBLE_CALLBACK_PLUGINS: CALLBACK_DIR,
            ANSIBLE_CALLBACKS_ENABLED: "bench_task_times",
            ANSIBLE_NOCOLOR: "1",
            ANSIBLE_RETRY_FILES_ENABLED: "false",
        };
        const startedAt = Date.now();
        let stdout: string;
        try {
            ({ stdout } = await run("ansible-playbook", ["-i", this.inventory, "-c", "local", file], { env, timeout: PLAYBOOK_TIMEOUT_MS, maxBuffer: 16 << 20 }));
        } catch (err) {
            const e = err as Error & { stdout?: string; stderr?: string };
            throw new Error(`ansible-playbook (${name}) failed: ${e.message.split("\n")[0]}\n${tail(e.stdout)}\n${tail(e.stderr)}`);
        }
        const exitedAt = Date.now();
        const times = parseTaskTimes(stdout);
        const missing = this.hosts.filter((h) => times.hostsDoneAt[h] === undefined);
        if (times.taskStartedAt === undefined || missing.length > 0) {
            throw new Error(`ansible-playbook (${name}): no task timestamps for ${missing.join(", ") || "the task"} (is the callback loaded?)\n${tail(stdout)}`);
        }
        return { startedAt, exitedAt, taskStartedAt: times.taskStartedAt, hostsDoneAt: times.hostsDoneAt, taskEndedAt: Math.max(...Object.values(times.hostsDoneAt)) };
    }

    async dispose(): Promise<void> {
        await rm(this.dir, { recursive: true, force: true });
    }
}

function tail(text: string | undefined, lines = 15): string {
    return (text ?? "").trim().split("\n").slice(-lines).join("\n");
}
