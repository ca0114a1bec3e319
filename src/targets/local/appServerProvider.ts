/**
 * The LocalAppServer provider: one demo app server process (appServerProcess.ts). Any input change
 * replaces the server. Read reports a server whose process is gone as deleted; its folder stays, with
 * the log that tells why it died.
 */
import type * as pulumi from "@pulumi/pulumi";
import { NAME_RULE, SETTINGS_KEYS, SETTINGS_RULES, isAlive, launchAppServer, stopAppServer, type AppServerSettings, type RunningAppServer } from "./appServerProcess";
import { changedKeys, checkFields, pickInputs } from "./inputs";

export interface AppServerInputs extends AppServerSettings {
    name: string;
}

export type AppServerOutputs = AppServerInputs & RunningAppServer;

const INPUT_KEYS = ["name", ...SETTINGS_KEYS] as const;

const provider: pulumi.dynamic.ResourceProvider<AppServerInputs, AppServerOutputs> = {
    async check(_olds, news) {
        const failures = checkFields(news, { name: NAME_RULE, ...SETTINGS_RULES });
        return failures.length > 0 ? { failures } : { inputs: news };
    },

    async diff(_id, olds, news) {
        const replaces = changedKeys<AppServerInputs>(olds, news, INPUT_KEYS);
        return { changes: replaces.length > 0, replaces };
    },

    async create(inputs) {
        const server = await launchAppServer(inputs.name, inputs);
        return { id: server.marker, outs: { ...inputs, ...server } satisfies AppServerOutputs };
    },

    async read(id, props) {
        if (!props || !isAlive(props)) return {};
        return { id, props, inputs: pickInputs(props, INPUT_KEYS) as AppServerOutputs };
    },

    async delete(_id, props) {
        await stopAppServer(props);
    },
};

export default provider;
