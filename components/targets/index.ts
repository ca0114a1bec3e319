/**
 * Picks the target named by the config (`local`, the default, or `aws`).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentConfig } from "../config";
import type { SshCredentials } from "../haproxy/transport";
import type { Target } from "../target";
import { awsTarget } from "./aws/target";
import { localTarget } from "./local/target";

export function targetFor(config: DeploymentConfig, deploymentName: string, ssh?: pulumi.Input<SshCredentials>): Target {
    return config.target === "aws" ? awsTarget(config, deploymentName, ssh) : localTarget(config, deploymentName);
}
