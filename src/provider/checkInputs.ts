/**
 * The `check` of a dynamic provider whose inputs are validated by a function that throws
 * RuntimeInputError: inputs a preview does not know yet pass as they are; a bad field becomes the
 * check's failure on that field, so `pulumi preview` names it before anything changes.
 */
import type * as pulumi from "@pulumi/pulumi";
import { RuntimeInputError } from "../haproxy/runtime/validate";
import { containsUnknown } from "./previewValues";

export function checkWith(validate: (inputs: Record<string, unknown>) => void): NonNullable<pulumi.dynamic.ResourceProvider["check"]> {
    return async (_olds, news) => {
        if (containsUnknown(news)) return { inputs: news };
        try {
            validate(news);
            return { inputs: news };
        } catch (err) {
            if (!(err instanceof RuntimeInputError)) throw err;
            return { inputs: news, failures: [{ property: err.field, reason: err.message }] };
        }
    };
}
