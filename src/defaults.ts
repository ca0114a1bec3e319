/**
 * The defaults of every setting, in one table: the plan (plan.ts), the components (HealthGate,
 * Membership, the aws target) and the stack config's schema (program/config.ts) read them here, so no
 * two of them can disagree. Times are in ms; the stack config shows some of them in seconds.
 */

/** `value` with every nested object frozen too. */
function deepFreeze<T extends object>(value: T): T {
    for (const field of Object.values(value)) if (typeof field === "object" && field !== null) deepFreeze(field);
    Object.freeze(value);
    return value;
}

export const DEFAULTS = deepFreeze({
    /** The app servers' health check (HealthCheckSettings): the gates of new servers, HAProxy's check and the smoke check. */
    healthCheck: {
        /** URL path of the app's health check. */
        path: "/health",
        /** HTTP status of a passed check. */
        expectedStatus: 200,
        /** Longest wait for new servers (and the site) to pass, in ms. */
        timeoutMs: 120_000,
        /** Interval between two checks, in ms: HAProxy's `inter` and a HealthGate's pause between two probes. */
        intervalMs: 1000,
        /** Consecutive passes to count as healthy (a pool's gate asks as many). */
        rise: 2,
        /** Consecutive failures to count as down. */
        fall: 2,
    },
    /** A HealthGate's own; its status, timeout and interval are the health check's. */
    gate: {
        /** Consecutive expected answers needed (the smoke check's; a pool's gate asks `healthCheck.rise`). */
        consecutive: 1,
    },
    /** The app servers of every generation (PoolSettings). */
    pool: {
        /** Servers per generation: the stack config's (a deployment is always told). */
        size: 2,
        /** First part of server names, `<namePrefix>-<generation>-<index>`, and the aws instances' `Pool` tag. */
        namePrefix: "app",
        /** Port the app listens on (the local target picks free ports). */
        port: 8080,
        /** Servers that must pass their health check before the rest are created. */
        canarySize: 0,
        /** Keep the previous generation running, detached (the stack config's `pool.standby`). */
        standby: false,
    },
    /** How servers join and leave the load balancers: a deployment's `haproxy` settings and a Membership's inputs. */
    membership: {
        /** The HAProxy backend of the app servers (a deployment's; a Membership is always told). */
        backend: "app",
        /** HAProxy's server weight. */
        weight: 1,
        /** A Membership's health check (a deployment's memberships get the health check's). */
        check: { enabled: true },
        /** Longest wait for a server to be UP on every load balancer, in ms. */
        attachTimeoutMs: 60_000,
        /** Longest wait for a drained server to be removable (idle connections closed) on a load balancer, in ms. */
        detachTimeoutMs: 30_000,
        /** How a server leaves (DrainSettings). */
        drain: {
            /** HAProxy's runtime drain state. */
            method: "drain",
            /** Longest wait for sessions to reach zero, in ms. */
            timeoutMs: 300_000,
            /** At the timeout the update fails; the server stays and a re-run resumes. */
            onTimeout: "fail",
            /** Interval between two session counts, in ms. */
            pollIntervalMs: 250,
            /** How long sessions must stay at zero before the server is removed, in ms. */
            quietPeriodMs: 2_000,
            /** Shortest drain, in ms. */
            minimumMs: 0,
            /** How long a tunnel (WebSocket, CONNECT) may keep a draining server before it is shut, in ms. */
            tunnelGraceMs: 30_000,
        },
        /** Servers are written to the servers files too, not only to the running HAProxy processes. */
        runtimeOnly: false,
    },
    /** A progressive rollout (RolloutSpec), when a membership asks for one. */
    rollout: {
        /** The steps: the new generation's share of new traffic, and how long it bakes there, in ms. */
        steps: [
            { percent: 10, bakeMs: 60_000 },
            { percent: 50, bakeMs: 120_000 },
            { percent: 100, bakeMs: 120_000 },
        ],
        /** How every bake is judged (AnalysisSettings). */
        analysis: {
            /** One analysis window: counters are compared between its start and its end, in ms. */
            windowMs: 10_000,
            /** Fewest requests the new generation must get in a window for it to count; fewer: inconclusive. */
            minRequests: 20,
            /** Highest error rate of the new generation (5xx, failed responses, failed connections). */
            maxErrorRate: 0.01,
            /** Highest error rate above the stable generation's in the same window, when the stable one got `minRequests` too. */
            maxErrorRateIncrease: 0.005,
            /** Highest average response time relative to the stable generation's (differences under `responseTimeSlackMs` pass). */
            maxResponseTimeRatio: 2,
            /** Response-time differences under this pass whatever the ratio, in ms. */
            responseTimeSlackMs: 50,
            /** Highest share of the new generation's requests that were retried or redispatched. */
            maxRetryRate: 0.05,
            /** Failed windows tolerated; one more rolls back. */
            failureLimit: 0,
            /** A step whose windows are inconclusive bakes this much longer at most, in ms (then `onInconclusive`). */
            inconclusiveExtensionMs: 120_000,
            /** What a bake still inconclusive at its extension's end does: `rollback`, or `fail` (the new generation kept attached at weight 0). */
            onInconclusive: "rollback",
        },
        /** Timeout of every HTTP call to Prometheus (`rollout.prometheus`), in ms. */
        prometheusTimeoutMs: 5000,
    },
    /** The aws target's. */
    aws: {
        /** SSH user on the database host, where the migration runs. */
        databaseUser: "ops",
        /** What is snapshotted: a self-managed server's EBS volume. */
        databaseKind: "ebs",
        /** An Auto Scaling group per generation (`aws.autoScaling`, src/targets/aws/scalingGroup/). */
        autoScaling: {
            /**
             * The scaling processes suspended on a group held still (runbook step 10): the old generation's
             * group from the new generation's attach until it is deleted, and a new group until its flip is
             * done (step 16). Launches, scale-ins, health replacements, AZ rebalancing, alarms and scheduled
             * actions: its desired capacity and its instances stay as they are.
             */
            heldProcesses: ["Launch", "Terminate", "HealthCheck", "ReplaceUnhealthy", "AZRebalance", "AlarmNotification", "ScheduledActions"],
            /** Longest wait for a group's instances to be InService, healthy and running, in ms. */
            discoveryTimeoutMs: 600_000,
            /** Pause between two reads of a group's instances, in ms. */
            discoveryIntervalMs: 5_000,
            /** The tag that records the deployment a group belongs to (`<project>/<stack>/<poolName>`). */
            ownerTagKey: "bluegreen:pool",
            /** The tag that records which hold suspended a group's processes, and which ones. */
            heldByTagKey: "bluegreen:held-by",
        },
    },
    /** Keys only the stack config has (program/config.ts). */
    stack: {
        /** Where everything runs: this machine. */
        target: "local",
        /** `pulumi destroy` is not stopped by a protection guard. */
        protect: false,
        /** SSH hosts without a configured host key are refused. */
        sshAllowUnknownHostKeys: false,
    },
} as const);
