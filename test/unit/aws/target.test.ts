/**
 * The aws program under strict mocks: the resources of one generation, what a flip renames, the
 * options the engine receives (retainOnDelete, parents, dependencies) and the secrecy of the SSH key.
 * Every test builds a fresh program (`buildAwsProgram` installs fresh mocks, then loads the modules
 * under test).
 */
import * as assert from "node:assert/strict";
import { parseDeploymentConfig } from "../../../program/config";
import type { BlueGreenDeployment } from "../../../src/deployment";
import { isSecretInput, plaintextPaths, programDone, promiseOf, restoreRuntime, secretValue, type RecordedResource, type Recorder } from "../../support/mocks";
import {
    DATABASE_HOST_KEYS,
    LB_HOST_KEY_SHA256,
    PASSPHRASE,
    PRIVATE_KEY,
    STACK,
    SUBNETS,
    TYPES,
    buildAwsProgram,
    loadUnderMocks,
    privateIpOf,
    rawAwsConfig,
    rawAwsConfigWith,
    sshSecret,
} from "./program";

/** The message of the ConfigError `raw` raises, or "" when it parses. */
function configProblems(raw: Record<string, unknown>): string {
    try {
        parseDeploymentConfig(raw);
        return "";
    } catch (err) {
        return (err as Error).message;
    }
}

/** Resource names of the deployment "site" (migration version 0042-add-orders-index). */
const SNAPSHOT = "site-snapshot-0042-add-orders-index";
const MIGRATION = "site-migration-0042-add-orders-index";
const pool = (g: string) => `site-pool-${g}`;
const server = (g: string, i: number) => `site-pool-${g}-${i}`;
const members = (g: string) => `site-members-${g}`;
const smoke = (g: string) => `site-smoke-${g}`;

describe("aws target under strict mocks", function () {
    after(restoreRuntime);

    describe("one generation", function () {
        let recorder: Recorder;
        let deployment: BlueGreenDeployment;
        before(async function () {
            ({ recorder, deployment } = await buildAwsProgram(rawAwsConfig()));
        });

        it("registers 3 instances, a snapshot, a migration, one pool membership, a pool gate and a smoke check, and no other custom (or aws:*) resource", function () {
            const custom = recorder.resources.filter((r) => r.custom).map((r) => `${r.type} ${r.name}`);
            assert.deepEqual(custom.sort(), [
                `${TYPES.command} ${MIGRATION}-run`,
                `${TYPES.snapshot} ${SNAPSHOT}-volume`,
                `${TYPES.instance} site-pool-g1-0`,
                `${TYPES.instance} site-pool-g1-1`,
                `${TYPES.instance} site-pool-g1-2`,
                `${TYPES.gate} site-pool-g1-gate`,
                `${TYPES.gate} site-smoke-g1`,
                `${TYPES.frozenGenerations} site-generations`,
                `${TYPES.poolMembership} site-members-g1`,
                `${TYPES.orphanSweep} site-orphans`,
            ].sort());
        });

        it("records each membership's owner (stack and resource) and sweeps this stack's unclaimed servers after the smoke check", function () {
            const membership = recorder.byName(members("g1"));
            assert.deepEqual(membership.inputs.owner, { stack: `organization/project/${STACK}`, resource: members("g1") });
            const sweep = recorder.byName("site-orphans");
            assert.equal(sweep.inputs.stack, `organization/project/${STACK}`);
            assert.equal(sweep.inputs.scope, "site-members-", "only this deployment's memberships");
            assert.deepEqual(sweep.inputs.claimed, [members("g1")]);
            assert.deepEqual(sweep.inputs.loadBalancers, membership.inputs.loadBalancers);
            assert.ok(recorder.dependsOn(sweep, recorder.byName(smoke("g1"))), "the sweep waits for the smoke check");
        });

        it("joins every server to both load balancers through their ssh:// endpoints, durably (servers file on each host)", function () {
            const durable = { serversFile: "/etc/haproxy/bluegreen/app.cfg" };
            const { inputs } = recorder.byName(members("g1"));
            assert.deepEqual(inputs.loadBalancers, [
                { name: "lb-prod-1", endpoint: "ssh://deploy@10.30.1.10/run/haproxy/admin.sock", ...durable },
                { name: "lb-prod-2", endpoint: "ssh://deploy@10.30.1.11/run/haproxy/admin.sock", ...durable },
            ]);
            assert.equal(inputs.runtimeOnly, undefined);
            assert.equal(inputs.backend, "app");
            assert.deepEqual(inputs.servers, [0, 1, 2].map((i) => ({ server: `app-g1-${i}`, address: privateIpOf(server("g1", i)), port: 8080 })));
        });

        it("gates the pool on each server's health URL and smoke-checks each load balancer's frontend", function () {
            const gate = recorder.byName("site-pool-g1-gate");
            assert.deepEqual(gate.inputs.targets, [0, 1, 2].map((i) => ({ name: `app-g1-${i}`, url: `http://10.30.0.${10 + i}:8080/health` })));
            assert.deepEqual(recorder.byName("site-smoke-g1").inputs.targets, [
                { name: "lb-prod-1", url: "http://10.30.1.10/health" },
                { name: "lb-prod-2", url: "http://10.30.1.11/health" },
            ]);
        });

        it("builds each instance from the generation's spec, round robin over the subnets, tagged", function () {
            recorder.ofType(TYPES.instance).forEach((instance) => {
                const i = Number(instance.name.slice(-1));
                const { inputs } = instance;
                assert.equal(inputs.ami, "ami-0a1b2c3d4e5f67890");
                assert.equal(inputs.instanceType, "m6i.large");
                assert.equal(inputs.subnetId, SUBNETS[i % SUBNETS.length]);
                assert.deepEqual(inputs.vpcSecurityGroupIds, ["sg-0a1b2c3d4e5f60003"]);
                assert.equal(inputs.keyName, "deploy-prod");
                assert.equal(inputs.iamInstanceProfile, "app-server-prod");
                assert.deepEqual(inputs.tags, { Name: `app-g1-${i}`, Pool: "app", Generation: "g1", Stack: STACK });
                assert.equal(inputs.userDataReplaceOnChange, true);
                const userData = String(inputs.userData);
                assert.match(userData, /--branch 'v1\.4\.0' -- 'https:\/\/git\.example\.com\/shop\/app\.git'/);
                for (const line of [`'LOG_LEVEL="info"'`, `'PORT="8080"'`, `'HOST="0.0.0.0"'`, `'SERVER_NAME="app-g1-${i}"'`, `'GENERATION="g1"'`]) {
                    assert.ok(userData.includes(line), `user data of ${instance.name} has ${line}`);
                }
            });
        });

        it("snapshots the database volume, tagged with the migration version", function () {
            const snapshot = recorder.byName(`${SNAPSHOT}-volume`);
            assert.equal(snapshot.inputs.volumeId, "vol-0123456789abcdef0");
            assert.deepEqual(snapshot.inputs.tags, { Name: `${SNAPSHOT}-volume`, Stack: STACK, MigrationVersion: "0042-add-orders-index" });
        });

        it("is an EBS snapshot by default (database.kind ebs): no RDS resource", function () {
            assert.equal(recorder.ofType(TYPES.rdsSnapshot).length + recorder.ofType(TYPES.rdsClusterSnapshot).length, 0);
        });

        it("runs the migration argv, shell-quoted, on the database host, once per migration version", function () {
            const { inputs } = recorder.byName(`${MIGRATION}-run`);
            assert.equal(inputs.create, "'/opt/app/bin/migrate' '--to' '0042'");
            assert.deepEqual(inputs.triggers, ["0042-add-orders-index"]);
            const connection = secretValue(inputs.connection) as Record<string, unknown>;
            assert.equal(connection.host, "10.30.2.5");
            assert.equal(connection.user, "deploy");
        });

        it("pins the database host's key from sshKnownHosts in the migration's connection.hostKey (the ECDSA one the Go client negotiates first)", function () {
            const connection = secretValue(recorder.byName(`${MIGRATION}-run`).inputs.connection) as Record<string, unknown>;
            assert.equal(connection.hostKey, DATABASE_HOST_KEYS.ecdsa);
        });

        it("registers the snapshot with retainOnDelete and no other resource, and nothing deletedWith (memberships must drain on delete)", function () {
            const retained = recorder.resources.filter((r) => r.retainOnDelete).map((r) => r.name);
            assert.deepEqual(retained, [`${SNAPSHOT}-volume`]);
            assert.deepEqual(recorder.resources.filter((r) => r.deletedWith !== "").map((r) => r.name), []);
        });

        it("exposes the servers' private addresses, the frontends and the snapshot id as the deployment's outputs", async function () {
            const servers = (await promiseOf(deployment.servers)).map(({ name, address, port }) => ({ name, address, port }));
            assert.deepEqual(servers, [0, 1, 2].map((i) => ({ name: `app-g1-${i}`, address: `10.30.0.${10 + i}`, port: 8080 })));
            const frontends = (await promiseOf(deployment.loadBalancers)).map(({ name, frontendUrl }) => ({ name, frontendUrl }));
            assert.deepEqual(frontends, [
                { name: "lb-prod-1", frontendUrl: "http://10.30.1.10/" },
                { name: "lb-prod-2", frontendUrl: "http://10.30.1.11/" },
            ]);
            assert.equal(await promiseOf(deployment.snapshotId), `${SNAPSHOT}-volume-id`);
        });

        it("orders snapshot -> migration -> servers -> gate -> memberships -> smoke check through dependencies", function () {
            const snapshot = recorder.byName(`${SNAPSHOT}-volume`);
            const migration = recorder.byName(`${MIGRATION}-run`);
            const gate = recorder.byName("site-pool-g1-gate");
            const smokeCheck = recorder.byName("site-smoke-g1");
            const servers = recorder.ofType(TYPES.instance);
            const memberships = recorder.ofType(TYPES.poolMembership);
            assert.equal(memberships.length, 1);
            assert.deepEqual(snapshot.dependencies, [], "the snapshot comes first");
            assert.ok(migration.dependencies.includes(snapshot.urn), "the migration depends on the snapshot");
            for (const instance of servers) {
                assert.ok(recorder.dependsOn(instance, migration), `${instance.name} waits for the migration`);
                assert.ok(gate.dependencies.includes(instance.urn), `the gate depends on ${instance.name}`);
            }
            const [membership] = memberships;
            assert.ok(membership.dependencies.includes(gate.urn), `${membership.name} depends on the gate`);
            for (const instance of servers) {
                assert.ok(membership.dependencies.includes(instance.urn), `${membership.name} depends on ${instance.name}, so it drains before the server is terminated`);
            }
            assert.ok(smokeCheck.dependencies.includes(membership.urn), `the smoke check depends on ${membership.name}`);
        });

        it("parents every resource inside the deployment", function () {
            const parentName = (name: string) => recorder.byUrn(recorder.byName(name).parent).name;
            assert.equal(parentName(`${SNAPSHOT}-volume`), SNAPSHOT);
            assert.equal(parentName(`${MIGRATION}-run`), MIGRATION);
            [0, 1, 2].forEach((i) => assert.equal(parentName(server("g1", i)), "site-pool-g1"));
            assert.equal(parentName("site-pool-g1-gate"), "site-pool-g1");
            for (const name of [SNAPSHOT, MIGRATION, "site-pool-g1", members("g1"), "site-smoke-g1"]) assert.equal(parentName(name), "site");
            assert.equal(recorder.byName("site").parent, "", "the deployment is a root resource");
        });

        it("keeps the SSH private key and passphrase secret in the memberships and the migration connection", function () {
            const membership = recorder.byName(members("g1"));
            assert.ok(isSecretInput(membership.inputs.ssh), "membership ssh is a secret");
            assert.deepEqual(secretValue(membership.inputs.ssh), { privateKey: PRIVATE_KEY, passphrase: PASSPHRASE });
            const migration = recorder.byName(`${MIGRATION}-run`);
            assert.ok(isSecretInput(migration.inputs.connection), "migration connection is a secret");
            const connection = secretValue(migration.inputs.connection) as Record<string, unknown>;
            assert.equal(connection.privateKey, PRIVATE_KEY);
            assert.equal(connection.privateKeyPassword, PASSPHRASE);
            const leaks = recorder.resources.flatMap((r) =>
                [PRIVATE_KEY, PASSPHRASE].flatMap((secret) => plaintextPaths(r.wire, secret).map((path) => `${r.name} ${path}`)),
            );
            assert.deepEqual(leaks, [], "the key or passphrase is sent to the engine in plain text");
        });
    });

    it("flipping g1 -> g2 renames exactly the generation-scoped resources and leaves snapshot and migration as they were", async function () {
        const { recorder: g1 } = await buildAwsProgram(rawAwsConfig());
        const { recorder: g2 } = await buildAwsProgram(rawAwsConfigWith({ generation: "g2" }));
        const byUrn = (r: Recorder) => new Map(r.resources.map((x) => [x.urn, x]));
        const [before, after] = [byUrn(g1), byUrn(g2)];
        const gone = [...before.values()].filter((r) => !after.has(r.urn)).map((r) => r.name);
        const added = [...after.values()].filter((r) => !before.has(r.urn)).map((r) => r.name);
        const generationScoped = (g: string) =>
            [pool(g), server(g, 0), server(g, 1), server(g, 2), `${pool(g)}-gate`, members(g), smoke(g)].sort();
        assert.deepEqual(gone.sort(), generationScoped("g1"));
        assert.deepEqual(added.sort(), generationScoped("g2"));
        const kept = [...after.values()].filter((r) => before.has(r.urn));
        assert.deepEqual(kept.map((r) => r.name).sort(), ["site", "site-generations", "site-orphans", SNAPSHOT, `${SNAPSHOT}-volume`, MIGRATION, `${MIGRATION}-run`].sort());
        // The record of generations now builds g2, and pins g1 (a program without history pins what it asks for).
        assert.deepEqual(Object.keys(g2.byName("site-generations").inputs.builds as object), ["g2"]);
        // The sweep now claims g2's membership (and, with a history, the remembered generations').
        assert.deepEqual(g2.byName("site-orphans").inputs.claimed, [members("g2")]);
        for (const resource of kept.filter((r) => r.name !== "site-generations" && r.name !== "site-orphans")) {
            assert.deepEqual(resource.wire, (before.get(resource.urn) as RecordedResource).wire, `${resource.name} keeps its inputs`);
        }
        const userData = String(g2.byName(server("g2", 0)).inputs.userData);
        assert.ok(userData.includes("--branch 'v1.5.0'") && userData.includes(`'FEATURE_CHECKOUT_V2="on"'`), "g2 runs its own appRef and inputs");
        assert.deepEqual(g2.byName(server("g2", 0)).inputs.tags, { Name: "app-g2-0", Pool: "app", Generation: "g2", Stack: STACK });
    });

    it("with canarySize 1 of 3, gates server 0 first and makes servers 1-2 wait for that canary gate", async function () {
        const { recorder } = await buildAwsProgram(rawAwsConfigWith({ canarySize: 1 }));
        const canaryGate = recorder.byName("site-pool-g1-canary-gate");
        const [server0, server1, server2] = [0, 1, 2].map((i) => recorder.byName(server("g1", i)));
        const migration = recorder.byName(`${MIGRATION}-run`);
        assert.deepEqual(canaryGate.inputs.targets, [{ name: "app-g1-0", url: "http://10.30.0.10:8080/health" }]);
        assert.ok(canaryGate.dependencies.includes(server0.urn), "the canary gate checks server 0");
        assert.ok(server0.dependencies.includes(migration.urn) && !recorder.dependsOn(server0, canaryGate), "server 0 only waits for the migration");
        for (const follower of [server1, server2]) {
            assert.ok(follower.dependencies.includes(canaryGate.urn), `${follower.name} waits for the canary gate`);
            assert.ok(recorder.dependsOn(follower, migration), `${follower.name} waits for the migration`);
        }
        const gate = recorder.byName("site-pool-g1-gate");
        assert.deepEqual(gate.inputs.targets, [0, 1, 2].map((i) => ({ name: `app-g1-${i}`, url: `http://10.30.0.${10 + i}:8080/health` })));
    });

    it("passes each load balancer's sshHostKeySha256 to the memberships; with sshAllowUnknownHostKeys the migration pins no host key", async function () {
        const base = rawAwsConfig() as { haproxy: { loadBalancers: Record<string, unknown>[] } };
        const [lb1, lb2] = base.haproxy.loadBalancers;
        const { recorder } = await buildAwsProgram(
            rawAwsConfigWith({
                haproxy: { ...base.haproxy, loadBalancers: [{ ...lb1, sshHostKeySha256: LB_HOST_KEY_SHA256 }, lb2] },
                sshKnownHosts: undefined,
                sshHostKeySha256: LB_HOST_KEY_SHA256,
                sshAllowUnknownHostKeys: true,
            }),
        );
        const { loadBalancers } = recorder.byName(members("g1")).inputs as { loadBalancers: Record<string, unknown>[] };
        assert.deepEqual(
            loadBalancers.map(({ name, hostKeySha256 }) => ({ name, hostKeySha256 })),
            [
                { name: "lb-prod-1", hostKeySha256: LB_HOST_KEY_SHA256 },
                { name: "lb-prod-2", hostKeySha256: undefined },
            ],
        );
        const connection = secretValue(recorder.byName(`${MIGRATION}-run`).inputs.connection) as Record<string, unknown>;
        assert.equal("hostKey" in connection, false);
    });

    it("gives the memberships the generation's server options, and retires an adopted fleet after the smoke check", async function () {
        const base = rawAwsConfig() as { haproxy: Record<string, unknown> };
        const { recorder } = await buildAwsProgram(
            rawAwsConfigWith({
                haproxy: {
                    ...base.haproxy,
                    serverOptions: { ssl: true, verify: "required", caFile: "/etc/haproxy/app-ca.pem", maxconn: 64, cookie: true },
                    generations: { g1: { serverOptions: { maxconn: 32 } } },
                    adopt: ["web1", "web2"],
                    drain: { quietPeriodSeconds: 5, minimumSeconds: 60, tunnelGraceSeconds: 90 },
                    detachTimeoutSeconds: 120,
                },
            }),
        );
        const membership = recorder.byName(members("g1"));
        assert.deepEqual(membership.inputs.options, { ssl: true, verify: "required", caFile: "/etc/haproxy/app-ca.pem", maxconn: 32, cookie: true });
        assert.deepEqual((membership.inputs.drain as Record<string, unknown>).quietPeriodMs, 5000);
        assert.deepEqual((membership.inputs.drain as Record<string, unknown>).tunnelGraceMs, 90_000);
        assert.equal(membership.inputs.detachTimeoutMs, 120_000);
        const [adoption] = recorder.ofType(TYPES.adoption);
        assert.equal(adoption.name, "site-adopted");
        assert.deepEqual(adoption.inputs.servers, ["web1", "web2"]);
        assert.deepEqual((adoption.inputs.drain as Record<string, unknown>).minimumMs, 60_000);
        assert.ok(recorder.dependsOn(adoption, recorder.byName("site-smoke-g1")), "the fleet leaves once the new generation serves");
        assert.ok(isSecretInput(adoption.inputs.ssh), "ssh is a secret");
    });

    it("a protected deployment protects a guard that depends on the smoke check, and its record; nothing that comes and goes with a flip", async function () {
        const { recorder, parseDeploymentConfig, BlueGreenDeployment, deploymentSettings, targetFor } = await loadUnderMocks();
        const config = parseDeploymentConfig(rawAwsConfig());
        const ssh = sshSecret();
        new BlueGreenDeployment("site", { ...deploymentSettings(config), target: targetFor(config, "site", ssh), ssh }, { protect: true });
        await programDone(recorder);
        const protectedNames = recorder.resources.filter((r) => r.protect === true).map((r) => r.name);
        assert.deepEqual(protectedNames.sort(), ["site-generations", "site-protected"]);
        // Unset, not false: the engine lets a child inherit a protected parent's flag whatever the child says.
        for (const r of recorder.resources.filter((x) => x.name !== "site-generations" && x.name !== "site-protected")) {
            assert.equal(r.protect, undefined, `${r.name} sends no protect flag, and its parents are not protected`);
        }
        const guard = recorder.byName("site-protected");
        assert.ok(recorder.dependsOn(guard, recorder.byName(smoke("g1"))), "the guard is deleted before the serving generation");
        assert.ok(!recorder.resources.some((r) => r.dependencies.includes(guard.urn)), "nothing depends on the guard: a destroy meets it first");
    });

    it("an unprotected deployment registers no guard", async function () {
        const { recorder } = await buildAwsProgram(rawAwsConfig());
        assert.equal(recorder.resources.filter((r) => r.name === "site-protected").length, 0);
    });

    it("leaves keyName and iamInstanceProfile unset when they are not configured", async function () {
        const { keyName, instanceProfile, ...aws } = rawAwsConfig().aws as Record<string, unknown>;
        assert.ok(keyName && instanceProfile);
        const { recorder } = await buildAwsProgram(rawAwsConfigWith({ aws }));
        for (const instance of recorder.ofType(TYPES.instance)) {
            assert.equal("keyName" in instance.inputs, false);
            assert.equal("iamInstanceProfile" in instance.inputs, false);
        }
    });

    it("refuses to build the target without SSH credentials, and registers nothing", async function () {
        const { recorder, parseDeploymentConfig, targetFor } = await loadUnderMocks();
        const config = parseDeploymentConfig(rawAwsConfig());
        assert.throws(() => targetFor(config, "site"), /SSH credentials \(sshPrivateKey\) are required/);
        assert.doesNotThrow(() => targetFor(config, "site", sshSecret()));
        assert.deepEqual(recorder.resources, [], "building a target registers nothing");
    });

    it("a non-EBS volume and an app source git cannot fetch are refused by the config, all at once", async function () {
        const { parseDeploymentConfig } = await loadUnderMocks();
        const raw = rawAwsConfigWith({
            database: { volume: "db", migration: { version: "1", command: ["migrate"] } },
            pool: { ...(rawAwsConfig().pool as object), spec: { image: "ami-0a1b2c3d4e5f67890", instanceType: "t3.small", appRef: "--x" } },
        });
        assert.throws(
            () => parseDeploymentConfig(raw),
            (err: Error) =>
                ['database.volume: "db" must be an EBS volume id', "pool.spec.appRepository: is required on the aws target", "pool.spec.appRef: is invalid"].every((part) =>
                    err.message.includes(part),
                ) || assert.fail(err.message),
        );
    });

    describe("database.kind rds", function () {
        const rds = (rds: Record<string, string>) => ({ kind: "rds", rds, migration: { version: "0042-add-orders-index", command: ["/opt/app/bin/migrate", "--to", "0042"] } });

        it("snapshots the RDS DB instance (aws.rds.Snapshot), retained, before the migration over SSH, and no EBS snapshot", async function () {
            const { recorder } = await buildAwsProgram(rawAwsConfigWith({ database: rds({ instanceIdentifier: "prod-db" }) }));
            assert.equal(recorder.ofType(TYPES.snapshot).length, 0);
            const snapshot = recorder.byName(`${SNAPSHOT}-volume`);
            assert.equal(snapshot.type, TYPES.rdsSnapshot);
            assert.equal(snapshot.inputs.dbInstanceIdentifier, "prod-db");
            assert.equal(snapshot.inputs.dbSnapshotIdentifier, `bluegreen-${STACK}-${SNAPSHOT}-volume`.replace(/\./g, "-"));
            assert.match(snapshot.inputs.dbSnapshotIdentifier as string, /^[A-Za-z](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]$/);
            assert.deepEqual(snapshot.inputs.tags, { Name: `${SNAPSHOT}-volume`, Stack: STACK, MigrationVersion: "0042-add-orders-index" });
            assert.equal(snapshot.retainOnDelete, true);
            const migration = recorder.byName(`${MIGRATION}-run`);
            assert.equal(migration.type, TYPES.command);
            assert.ok(recorder.dependsOn(migration, snapshot), "the migration waits for the snapshot");
        });

        it("snapshots an Aurora cluster (aws.rds.ClusterSnapshot) with clusterIdentifier", async function () {
            const { recorder } = await buildAwsProgram(rawAwsConfigWith({ database: rds({ clusterIdentifier: "prod-aurora" }) }));
            const snapshot = recorder.byName(`${SNAPSHOT}-volume`);
            assert.equal(snapshot.type, TYPES.rdsClusterSnapshot);
            assert.equal(snapshot.inputs.dbClusterIdentifier, "prod-aurora");
            assert.match(snapshot.inputs.dbClusterSnapshotIdentifier as string, /^bluegreen-prod-/);
        });

        it("the config refuses rds without exactly one identifier, a volume with rds, and a missing migration command", function () {
            const text = configProblems(rawAwsConfigWith({ database: { kind: "rds", volume: "vol-0123456789abcdef0", rds: {}, migration: { version: "0042" } } }));
            assert.match(text, /database\.rds: Only one of `instanceIdentifier` or `clusterIdentifier` can be provided, and one is required with kind rds/);
            assert.match(text, /database\.volume: is for kind ebs only/);
            assert.match(text, /database\.migration\.command: is required on the aws target/);
            const both = configProblems(rawAwsConfigWith({ database: rds({ instanceIdentifier: "a", clusterIdentifier: "b" }) }));
            assert.match(both, /database\.rds: Only one of/);
        });
    });
});
