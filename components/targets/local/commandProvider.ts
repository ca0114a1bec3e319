/**
 * Where state written before the local target used PostgreSQL looks for the provider of its migration
 * command (`local:Command`, see components/README.md). A command that ran cannot be taken back, so the
 * only call such a resource still gets, its delete, does nothing, as it always did.
 */
import type * as pulumi from "@pulumi/pulumi";

const provider: pulumi.dynamic.ResourceProvider = {
    async create() {
        throw new Error("local:Command is gone: the local target migrates with local:Migration (PostgreSQL)");
    },
    async delete() {
        // Nothing to undo.
    },
};

export default provider;
