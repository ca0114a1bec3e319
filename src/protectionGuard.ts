/**
 * `ProtectionGuard`: what a protected deployment protects. A component with no children, protected, that
 * depends on the serving generation's last step (the smoke check, and the retirement of an adopted
 * fleet): nothing depends on it, so `pulumi destroy` (or a program that drops the deployment) tries to
 * delete it before anything else and stops there, with the site still serving. It is not generation-
 * scoped, so a flip moves its dependencies in place and deletes the old generation as usual.
 */
import * as pulumi from "@pulumi/pulumi";
import { TYPES } from "./names";

export class ProtectionGuard extends pulumi.ComponentResource {
    constructor(name: string, opts: pulumi.ComponentResourceOptions) {
        super(TYPES.protectionGuard, name, {}, { ...opts, protect: true });
        this.registerOutputs({});
    }
}
