/**
 * The Ansible benchmark's reading of its callback's timestamps (scripts/bench/ansible-callbacks), on
 * output in the form ansible-playbook prints it.
 */
import * as assert from "node:assert/strict";
import { parseTaskTimes } from "../../../scripts/bench/ansiblePlaybook";

const OUTPUT = `
PLAY [drain d0-ansible-wait] ***************************************************
BENCH task-start 1763790000100 drain d0-ansible-wait

TASK [drain d0-ansible-wait] ***************************************************
BENCH host-ok 1763790000900 lb2
changed: [lb2]
BENCH host-ok 1763790006200 lb1
changed: [lb1]

PLAY RECAP *********************************************************************
lb1                        : ok=1    changed=1    unreachable=0    failed=0
`;

describe("Ansible benchmark: task timestamps", () => {
    it("reads the task's start and each host's result", () => {
        assert.deepEqual(parseTaskTimes(OUTPUT), { taskStartedAt: 1763790000100, hostsDoneAt: { lb1: 1763790006200, lb2: 1763790000900 }, failedHosts: [] });
    });

    it("names hosts that failed and ignores everything else", () => {
        const times = parseTaskTimes("BENCH host-failed 5 lb1\nBENCH host-unreachable 6 lb2\nBENCH something 7 x\nok: [lb1]\n");
        assert.deepEqual(times, { taskStartedAt: undefined, hostsDoneAt: {}, failedHosts: ["lb1", "lb2"] });
    });
});
