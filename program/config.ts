/**
 * The stack configuration, parsed in one place.
 *
 * Every problem is reported at once, each with its config key, what is allowed and an example, before
 * any resource is registered. Defaults come from the table in src/defaults.ts; what each key allows,
 * and an example, are on its schema node.
 */
import { z } from "zod";
import { parseEndpoint } from "../src/haproxy/runtime/endpoint";
import { knownHostsProblems } from "../src/haproxy/runtime/knownHosts";
import { validateServerOptions, type ServerOptions } from "../src/haproxy/serverOptions";
import { RuntimeInputError } from "../src/haproxy/runtime/validate";
import type { RolloutInput } from "../src/haproxy/poolMembership";
import { DEFAULTS } from "../src/defaults";
import { helpAt } from "./configHelp";
import { crossFieldProblems, seconds, type LooseConfig } from "./configRules";

/** Short generation label: becomes part of resource names and HAProxy server names. */
export const GENERATION_PATTERN = /^[a-z][a-z0-9]{0,11}$/;
/** Names that end up in HAProxy identifiers and resource names. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,23}$/;
/** Environment variable names of app inputs. */
const INPUT_NAME_PATTERN = /^[A-Z_][A-Z0-9_]{0,63}$/;
/** RDS DB instance and cluster identifiers. */
const RDS_IDENTIFIER_PATTERN = /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/;
/** Migration versions: sortable labels such as 0002 or 2026-11-21-add-index. */
const MIGRATION_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** An OpenSSH SHA256 host key fingerprint as `ssh-keygen -lf` prints it. */
const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

const generation = z.string().regex(GENERATION_PATTERN);


/** `node` defaulting to `value` (from DEFAULTS), with its help: what it allows and, as the example, the default. */
function withDefault<T extends z.ZodType>(node: T, value: z.core.util.NoUndefined<z.output<T>>, allowed: string) {
    return node.meta({ allowed, example: String(value) }).default(value);
}

/** Server options, validated by the same rules as the Membership's input (serverOptions.ts). */
const serverOptions = z.unknown().transform((value, ctx): ServerOptions => {
    try {
        return validateServerOptions("serverOptions", value);
    } catch (err) {
        if (!(err instanceof RuntimeInputError)) throw err;
        ctx.addIssue({ code: "custom", message: err.message, path: err.field.split(".").slice(1) });
        return z.NEVER;
    }
});
/** `haproxy.rollout`: the PoolMembership's rollout in seconds, checked by the same rules (rolloutSpec.ts). */
const rolloutAnalysis = DEFAULTS.rollout.analysis;
const rollout = z
    .object({
        steps: z
            .array(z.object({ percent: z.number().int().min(1).max(100), bakeSeconds: z.number().min(0.5).max(86400) }).strict())
            .min(1)
            .max(20)
            .default(DEFAULTS.rollout.steps.map((s) => ({ percent: s.percent, bakeSeconds: seconds(s.bakeMs) })))
            .meta({ allowed: "1 to 20 steps {percent, bakeSeconds} of rising percents, the last one 100", example: "[{percent: 10, bakeSeconds: 60}, {percent: 100, bakeSeconds: 120}]" }),
        analysis: z
            .object({
                windowSeconds: withDefault(z.number().min(0.5).max(86400), seconds(rolloutAnalysis.windowMs), "seconds from 0.5 to 86400: one analysis window"),
                minRequests: withDefault(z.number().int().min(1), rolloutAnalysis.minRequests, "the fewest requests the new generation must get in a window for it to count"),
                maxErrorRate: withDefault(z.number().min(0).max(1), rolloutAnalysis.maxErrorRate, "a rate from 0 to 1"),
                maxErrorRateIncrease: withDefault(z.number().min(0).max(1), rolloutAnalysis.maxErrorRateIncrease, "a rate from 0 to 1 above the stable generation's"),
                maxResponseTimeRatio: withDefault(z.number().min(1).max(1000), rolloutAnalysis.maxResponseTimeRatio, "a ratio from 1 to 1000 to the stable generation's response time"),
                responseTimeSlackMs: withDefault(z.number().int().min(0).max(600000), rolloutAnalysis.responseTimeSlackMs, "milliseconds of response-time difference that always pass"),
                maxRetryRate: withDefault(z.number().min(0).max(1), rolloutAnalysis.maxRetryRate, "a rate from 0 to 1"),
                failureLimit: withDefault(z.number().int().min(0).max(1000), rolloutAnalysis.failureLimit, "failed windows tolerated, 0 to 1000"),
                inconclusiveExtensionSeconds: withDefault(z.number().min(0).max(86400), seconds(rolloutAnalysis.inconclusiveExtensionMs), "seconds an inconclusive bake may go on"),
                onInconclusive: withDefault(z.enum(["rollback", "fail"]), rolloutAnalysis.onInconclusive, "rollback (drain and detach the new generation) or fail (keep it attached at weight 0)"),
            })
            .strict()
            .prefault({}),
        prometheus: z
            .object({ url: z.string(), instances: z.record(z.string(), z.string()), job: z.string().optional(), timeoutMs: z.number().int().optional() })
            .strict()
            .meta({ allowed: "{url, instances: {<load balancer>: <instance label>}, job?, timeoutMs?}: counters from Prometheus scraping each load balancer's HAProxy exporter", example: "{url: http://prometheus:9090, instances: {lb1: '10.0.1.10:8405'}}" })
            .optional(),
    })
    .strict();

/** A `haproxy.rollout` config value in the PoolMembership's units (seconds to ms). */
export function rolloutInput(value: z.output<typeof rollout>): RolloutInput {
    const { windowSeconds, inconclusiveExtensionSeconds, ...analysis } = value.analysis;
    return {
        steps: value.steps.map((s) => ({ percent: s.percent, bakeMs: Math.round(s.bakeSeconds * 1000) })),
        analysis: { ...analysis, windowMs: Math.round(windowSeconds * 1000), inconclusiveExtensionMs: Math.round(inconclusiveExtensionSeconds * 1000) },
        ...(value.prometheus ? { prometheus: value.prometheus } : {}),
    };
}

const name = z.string().regex(NAME_PATTERN);
const NAME_ALLOWED = "a lowercase letter then up to 23 lowercase letters, digits or '-'";
const port = z.number().int().min(1).max(65535);
const noControl = (s: string) => !/[\u0000-\u001f\u007f]/.test(s);
const fingerprint = z.string().regex(FINGERPRINT_PATTERN).meta({
    allowed: "an OpenSSH host key fingerprint as `ssh-keygen -lf` prints it: SHA256:<43 base64 characters>",
    example: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
});

const serverSpec = z
    .object({
        image: z.string().regex(/^ami-[0-9a-f]{8,17}$/).meta({ allowed: "an AMI id (aws target)", example: "ami-0abcdef1234567890" }),
        instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/).meta({ allowed: "an EC2 instance type", example: "t3.small" }),
        appRepository: z
            .string()
            .regex(/^[A-Za-z0-9+.:/@_~%][A-Za-z0-9+.:/@_~%-]*$/)
            .meta({ allowed: "a git URL without spaces or quotes, not starting with '-'", example: "https://git.example.com/shop.git" }),
        appRef: z.string().regex(/^[A-Za-z0-9._][A-Za-z0-9._/-]{0,127}$/).meta({ allowed: "a branch, tag or commit: letters, digits, '.', '_', '/', '-', not starting with '-'", example: "v1.4.0" }),
        inputs: z
            .record(z.string().regex(INPUT_NAME_PATTERN), z.string().max(4096).refine(noControl).meta({ allowed: "a string without newlines or NUL", example: "on" }))
            .meta({ allowed: "a map of UPPER_CASE names to strings without newlines", example: "{FEATURE_X: on}" }),
    })
    .partial()
    .strict();

const loadBalancer = z
    .object({
        name: name.meta({ allowed: NAME_ALLOWED, example: "lb1" }),
        endpoint: z
            .string()
            .min(1)
            .superRefine((url, ctx) => {
                try {
                    parseEndpoint(url, "the URL");
                } catch (err) {
                    ctx.addIssue({ code: "custom", message: (err as Error).message });
                }
            })
            .meta({ allowed: "unix:///path/admin.sock, tcp://host:port or ssh://user@host[:port]/path/admin.sock", example: "ssh://ops@10.0.1.10/run/haproxy/admin.sock" })
            .optional(),
        frontendUrl: z.string().regex(/^https?:\/\/[^\s"'`]+$/).meta({ allowed: "an http:// or https:// URL", example: "http://10.0.1.10/" }).optional(),
        frontendPort: z.number().int().min(1024).max(65535).meta({ allowed: "a port from 1024 to 65535 (local target)", example: "18080" }).optional(),
        sshHostKeySha256: fingerprint.optional(),
    })
    .strict();

/**
 * The stack config. Each key's node carries its help (`.meta({ allowed, example })`, quoted by the error
 * messages through configHelp.ts); its default comes from DEFAULTS.
 */
const schema = z
    .object({
        generation: generation.meta({ allowed: "a lowercase letter then up to 11 lowercase letters or digits", example: "g7" }),
        target: withDefault(z.enum(["local", "aws"]), DEFAULTS.stack.target, "local or aws"),
        protect: z
            .boolean()
            .default(DEFAULTS.stack.protect)
            .meta({ allowed: "true (`pulumi destroy` stops at a protected guard before it deletes anything; flips still run) or false", example: "true" }),
        canarySize: z.number().int().min(0).default(DEFAULTS.pool.canarySize).meta({ allowed: "a whole number from 0 to pool.size - 1", example: "1" }),
        pool: z
            .object({
                size: z.number().int().min(1).max(200).default(DEFAULTS.pool.size).meta({ allowed: "a whole number from 1 to 200", example: "4" }),
                namePrefix: withDefault(name, DEFAULTS.pool.namePrefix, NAME_ALLOWED),
                port: withDefault(port, DEFAULTS.pool.port, "a port from 1 to 65535"),
                spec: serverSpec.default({}).meta({ allowed: "an object with image, instanceType, appRepository, appRef, inputs", example: "{appRef: v1.4.0}" }),
                generations: z.record(generation, serverSpec).default({}).meta({ allowed: "a map of generation label to spec overrides", example: "{g2: {appRef: v1.5.0}}" }),
                standby: z.boolean().default(DEFAULTS.pool.standby).meta({ allowed: "true (keep the previous generation running but detached until the next flip) or false", example: "true" }),
            })
            .strict()
            .prefault({}),
        healthCheck: z
            .object({
                path: withDefault(z.string().regex(/^\/[A-Za-z0-9._~/%?=&-]*$/), DEFAULTS.healthCheck.path, "an absolute URL path without spaces"),
                expectedStatus: withDefault(z.number().int().min(100).max(599), DEFAULTS.healthCheck.expectedStatus, "an HTTP status from 100 to 599"),
                timeoutSeconds: withDefault(z.number().min(1).max(3600), seconds(DEFAULTS.healthCheck.timeoutMs), "seconds from 1 to 3600"),
                intervalMs: withDefault(z.number().int().min(100).max(60000), DEFAULTS.healthCheck.intervalMs, "milliseconds from 100 to 60000"),
                rise: withDefault(z.number().int().min(1).max(10), DEFAULTS.healthCheck.rise, "a whole number from 1 to 10"),
                fall: withDefault(z.number().int().min(1).max(10), DEFAULTS.healthCheck.fall, "a whole number from 1 to 10"),
            })
            .strict()
            .prefault({}),
        haproxy: z
            .object({
                backend: withDefault(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/), DEFAULTS.membership.backend, "an HAProxy backend name: letters, digits, '-', '_', '.'"),
                loadBalancers: z.array(loadBalancer).min(1).meta({ allowed: "a non-empty list of load balancers with distinct names", example: "[{name: lb1, endpoint: tcp://10.0.1.10:9999}]" }),
                runtimeOnly: withDefault(
                    z.boolean(),
                    DEFAULTS.membership.runtimeOnly,
                    "true (servers live only in the running HAProxy: lost at a reload until the next pulumi up; needed for tcp:// endpoints) or false",
                ),
                serversFile: z
                    .string()
                    .regex(/^(\/[A-Za-z0-9_.@+-]+)+$/)
                    .meta({ allowed: "an absolute path on the load balancer hosts (aws target), loaded by HAProxy with -f", example: "/etc/haproxy/bluegreen/app.cfg" })
                    .optional(),
                backendDefaults: z
                    .string()
                    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/)
                    .meta({ allowed: "the name of the defaults section in haproxy.cfg holding the backend's settings", example: "app-settings" })
                    .optional(),
                attachTimeoutSeconds: withDefault(z.number().min(1).max(3600), seconds(DEFAULTS.membership.attachTimeoutMs), "seconds from 1 to 3600"),
                detachTimeoutSeconds: withDefault(
                    z.number().min(1).max(3600),
                    seconds(DEFAULTS.membership.detachTimeoutMs),
                    "seconds from 1 to 3600 that a drained server may take to be removable (idle connections closed)",
                ),
                serverOptions: serverOptions.default({}).meta({
                    allowed: "an object with ssl, verify (none|required), caFile, sni, alpn, checkSsl, checkSni, maxconn, maxqueue, slowstartMs, sendProxy (v1|v2), agent {port, interMs}, cookie",
                    example: "{ssl: true, verify: required, caFile: /etc/haproxy/app-ca.pem, maxconn: 64, cookie: true}",
                }),
                generations: z
                    .record(generation, z.object({ serverOptions }).strict())
                    .default({})
                    .meta({ allowed: "a map of generation label to {serverOptions} overriding haproxy.serverOptions for that generation", example: "{g3: {serverOptions: {maxconn: 128}}}" }),
                adopt: z
                    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/))
                    .default([])
                    .meta({ allowed: "a list of server names the backend already has (your existing fleet, in the servers file): the next flip drains and removes them", example: "[web1, web2]" }),
                rollout: rollout
                    .meta({ allowed: "{steps: [{percent, bakeSeconds}], analysis: {windowSeconds, minRequests, maxErrorRate, ...}}: shift traffic in steps, rolled back on its own (docs/OPERATING.md)", example: "{steps: [{percent: 10, bakeSeconds: 60}, {percent: 100, bakeSeconds: 60}]}" })
                    .optional(),
                drain: z
                    .object({
                        method: withDefault(
                            z.enum(["drain", "healthcheck"]),
                            DEFAULTS.membership.drain.method,
                            "drain (HAProxy drain state) or healthcheck (fail the server's health check, runbook step 12)",
                        ),
                        timeoutSeconds: withDefault(z.number().min(1).max(86400), seconds(DEFAULTS.membership.drain.timeoutMs), "seconds from 1 to 86400"),
                        onTimeout: withDefault(
                            z.enum(["fail", "force"]),
                            DEFAULTS.membership.drain.onTimeout,
                            "fail (the update fails and a re-run resumes) or force (shut remaining sessions)",
                        ),
                        pollIntervalMs: withDefault(z.number().int().min(50).max(10000), DEFAULTS.membership.drain.pollIntervalMs, "milliseconds from 50 to 10000"),
                        quietPeriodSeconds: withDefault(
                            z.number().min(0).max(86400),
                            seconds(DEFAULTS.membership.drain.quietPeriodMs),
                            "seconds from 0 to 86400 that a server's sessions must stay at zero before it is removed (sticky clients between two requests)",
                        ),
                        minimumSeconds: withDefault(
                            z.number().min(0).max(86400),
                            seconds(DEFAULTS.membership.drain.minimumMs),
                            "seconds from 0 to 86400, less than timeoutSeconds: the shortest drain (your session TTL)",
                        ),
                        tunnelGraceSeconds: withDefault(
                            z.number().min(0).max(86400),
                            seconds(DEFAULTS.membership.drain.tunnelGraceMs),
                            "seconds from 0 to 86400 that a WebSocket or other tunnel may keep a draining server before it is shut",
                        ),
                    })
                    .strict()
                    .prefault({}),
            })
            .strict(),
        forgetLoadBalancers: z
            .array(name.meta({ allowed: "a load balancer name", example: "lb3" }))
            .default([])
            .meta({ allowed: "a list of load balancer names that are gone for good (not in haproxy.loadBalancers)", example: "[lb3]" }),
        database: z
            .object({
                kind: z
                    .enum(["postgres", "ebs", "rds"])
                    .meta({ allowed: "local: postgres (the local target's own PostgreSQL); aws: ebs (a self-managed server on an EBS volume) or rds (Amazon RDS)", example: "rds" })
                    .optional(),
                volume: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/).meta({ allowed: "aws, kind ebs: the EBS volume id of the database server", example: "vol-0123456789abcdef0" }).optional(),
                rds: z
                    .object({
                        instanceIdentifier: z.string().regex(RDS_IDENTIFIER_PATTERN).optional(),
                        clusterIdentifier: z.string().regex(RDS_IDENTIFIER_PATTERN).optional(),
                    })
                    .strict()
                    .meta({ allowed: "aws, kind rds: {instanceIdentifier} of a DB instance or {clusterIdentifier} of an Aurora cluster", example: "{instanceIdentifier: prod-db}" })
                    .optional(),
                port: z.number().int().min(1024).max(65535).meta({ allowed: "local: the PostgreSQL port on 127.0.0.1, 1024 to 65535 (default: a free one)", example: "15432" }).optional(),
                migration: z
                    .object({
                        version: z.string().regex(MIGRATION_VERSION_PATTERN).meta({
                            allowed: "local: the version of a file <version>_<name>.sql in app/migrations (4 or more digits); aws: letters, digits, '.', '_', '-' (up to 64)",
                            example: "0002",
                        }),
                        command: z
                            .array(z.string().min(1).max(4096).refine(noControl))
                            .min(1)
                            .meta({ allowed: "aws: a non-empty list of arguments run on aws.databaseHost (without a shell)", example: "[/opt/app/bin/migrate, --to, '0042']" })
                            .optional(),
                    })
                    .strict(),
            })
            .strict(),
        aws: z
            .object({
                region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).meta({ allowed: "an AWS region", example: "eu-west-1" }).optional(),
                subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/)).min(1).meta({ allowed: "a non-empty list of subnet ids", example: "[subnet-0123abcd]" }),
                securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/)).default([]).meta({ allowed: "a list of security group ids", example: "[sg-0123abcd]" }),
                keyName: z.string().regex(/^[A-Za-z0-9._-]{1,255}$/).meta({ allowed: "an EC2 key pair name", example: "ops" }).optional(),
                instanceProfile: z.string().regex(/^[A-Za-z0-9+=,.@_-]{1,128}$/).meta({ allowed: "an IAM instance profile name", example: "app-server" }).optional(),
                databaseHost: z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/).meta({ allowed: "the host the migration runs on over SSH", example: "10.0.2.5" }),
                databaseUser: withDefault(z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/), DEFAULTS.aws.databaseUser, "the SSH user on the database host"),
                autoScaling: z
                    .object({
                        minSize: z.number().int().min(0).max(1000).meta({ allowed: "the serving group's minimum size once released, 0 to 1000", example: "2" }),
                        maxSize: z.number().int().min(1).max(1000).meta({ allowed: "the serving group's maximum size once released, 1 to 1000", example: "12" }),
                    })
                    .strict()
                    .meta({ allowed: "an Auto Scaling group per generation: {minSize, maxSize}", example: "{minSize: 2, maxSize: 12}" })
                    .optional(),
            })
            .strict()
            .meta({ allowed: "an object with region, subnetIds, securityGroupIds, keyName, instanceProfile, databaseHost, databaseUser, autoScaling", example: "{subnetIds: [subnet-0123abcd]}" })
            .optional(),
        sshHostKeySha256: fingerprint.optional(),
        sshKnownHosts: z
            .string()
            .superRefine((text, ctx) => knownHostsProblems(text).forEach((message) => ctx.addIssue({ code: "custom", message })))
            .meta({
                allowed: "OpenSSH known_hosts lines `host[,host2] keytype base64key` as ssh-keyscan prints them (hashed |1| names allowed; no wildcards, no @markers)",
                example: "10.0.2.5 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC6KkiWR3LwF3KwylM7jCduzoBz/iigTs1U+EXAz9YyR",
            })
            .optional(),
        sshAllowUnknownHostKeys: withDefault(z.boolean(), DEFAULTS.stack.sshAllowUnknownHostKeys, "true (connect to SSH hosts whose key is not configured, unverified) or false"),
    })
    .strict();

export interface ConfigProblem {
    /** The config key, e.g. `haproxy.drain.timeoutSeconds`. */
    path: string;
    message: string;
}

function problem(path: string, message: string): ConfigProblem {
    const help = helpAt(schema, path);
    const hint = help ? ` (allowed: ${help.allowed}; example: ${help.example})` : "";
    return { path, message: `${path}: ${message}${hint}` };
}

/** Raised with every problem of a configuration; the message lists them one per line. */
export class ConfigError extends Error {
    constructor(readonly problems: ConfigProblem[], readonly namespace: string) {
        super(
            `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${namespace}:${p.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

export type DeploymentConfig = z.infer<typeof schema>;

/**
 * Parses raw config values (as `pulumi.Config.getObject` returns them) into a complete, defaulted
 * configuration, or throws one ConfigError listing every problem. Pure: exported for tests.
 */
export function parseDeploymentConfig(raw: Record<string, unknown>, namespace = "haproxy-bluegreen"): DeploymentConfig {
    const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
    // reportInput: a value of the wrong type is "invalid", not "required" (issue.input is set only then).
    const parsed = schema.safeParse(defined, { reportInput: true });
    const crossField: ConfigProblem[] = [];
    crossFieldProblems(defined as LooseConfig, (path, message) => crossField.push(problem(path, message)));
    if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => {
            const path = issue.path.map(String).join(".") || "(root)";
            if (issue.code === "unrecognized_keys") {
                const keys = issue.keys.map((k) => (path === "(root)" ? k : `${path}.${k}`));
                return { path: keys[0], message: `${keys.join(", ")}: unknown key (check the spelling)` };
            }
            const received = issue.code === "invalid_type" && issue.input === undefined ? "is required" : `is invalid: ${issue.message}`;
            return problem(path, received);
        });
        throw new ConfigError([...problems, ...crossField], namespace);
    }
    if (crossField.length > 0) throw new ConfigError(crossField, namespace);
    return parsed.data;
}

/** The keys `parseDeploymentConfig` reads from the stack config (stackConfig.ts reads each with the getter of its type). */
export const CONFIG_KEYS = [
    "generation", "target", "protect", "canarySize", "pool", "healthCheck", "haproxy", "forgetLoadBalancers", "database", "aws",
    "sshHostKeySha256", "sshKnownHosts", "sshAllowUnknownHostKeys",
] as const;
