/**
 * Reads the stack config (Pulumi.<stack>.yaml) into a parsed DeploymentConfig and the SSH credentials.
 * Bad config stops the program with every problem listed, before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseDeploymentConfig, type DeploymentConfig } from "./config";
import type { SshCredentials } from "../src/haproxy/runtime/transport";

/** Keys holding one string, number or boolean; the rest hold objects. */
const SCALAR_KEYS = ["generation", "target", "sshHostKeySha256", "sshKnownHosts"] as const;
const NUMBER_KEYS = ["canarySize"] as const;
const BOOLEAN_KEYS = ["protect", "sshAllowUnknownHostKeys"] as const;
const OBJECT_KEYS = ["pool", "healthCheck", "haproxy", "forgetLoadBalancers", "database", "aws"] as const;

export interface StackSettings {
    config: DeploymentConfig;
    /**
     * From the secrets `sshPrivateKey`, `sshPassphrase` and the plain `sshHostKeySha256`, `sshKnownHosts`,
     * `sshAllowUnknownHostKeys` (as parsed into `config`); undefined without a private key.
     */
    ssh?: pulumi.Output<SshCredentials>;
}

export function readStackConfig(cfg = new pulumi.Config()): StackSettings {
    const raw: Record<string, unknown> = {};
    const problems: string[] = [];
    const read = (key: string, get: () => unknown) => {
        try {
            raw[key] = get();
        } catch (err) {
            problems.push(`  - ${cfg.name}:${key}: ${(err as Error).message.split("\n")[0]}`);
        }
    };
    SCALAR_KEYS.forEach((k) => read(k, () => cfg.get(k)));
    NUMBER_KEYS.forEach((k) => read(k, () => cfg.getNumber(k)));
    BOOLEAN_KEYS.forEach((k) => read(k, () => cfg.getBoolean(k)));
    OBJECT_KEYS.forEach((k) => read(k, () => cfg.getObject(k)));
    if (problems.length > 0) throw new pulumi.RunError(`invalid stack configuration:\n${problems.join("\n")}`);
    let config: DeploymentConfig;
    try {
        config = parseDeploymentConfig(raw, cfg.name);
    } catch (err) {
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
    const privateKey = cfg.getSecret("sshPrivateKey");
    if (!privateKey) return { config };
    const passphrase = cfg.getSecret("sshPassphrase");
    const { sshHostKeySha256, sshKnownHosts, sshAllowUnknownHostKeys } = config;
    const ssh = pulumi.secret(
        pulumi.all([privateKey, passphrase]).apply(([key, pass]) => ({
            privateKey: key,
            ...(pass ? { passphrase: pass } : {}),
            ...(sshHostKeySha256 ? { hostKeySha256: sshHostKeySha256 } : {}),
            ...(sshKnownHosts ? { knownHosts: sshKnownHosts } : {}),
            ...(sshAllowUnknownHostKeys ? { allowUnknownHostKey: true } : {}),
        })),
    );
    return { config, ssh };
}
