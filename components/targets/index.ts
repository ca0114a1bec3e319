/**
 * Picks the target named by the config (`local`, the default, or `aws`). The aws target is loaded only
 * when used: @pulumi/aws and @pulumi/command take a noticeable part of a local program's start.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentConfig } from "../config";
import type { SshCredentials } from "../haproxy/transport";
import type { Target } from "../target";
import { localTarget } from "./local/target";

export function targetFor(config: DeploymentConfig, deploymentName: string, ssh?: pulumi.Input<SshCredentials>): Target {
    if (config.target !== "aws") return localTarget(config, deploymentName);
    const { awsTarget } = require("./aws/target") as typeof import("./aws/target");
    return awsTarget(config, deploymentName, ssh);
}
