/**
 * Deletes with today's settings. An old generation is never registered again, so its delete gets only
 * what its state stored at its last update: the drain settings and SSH credentials of then. Every
 * membership the program registers announces its own here from `check`, by backend, inside the one
 * dynamic-provider host of the update; a delete of a membership of the same backend then drains with
 * today's timeout, `onTimeout`, polling, quiet period, minimum, tunnel grace and detach timeout, and connects with today's SSH
 * credentials. So the advice of a drain timeout ("set drain.onTimeout to force") reaches the old
 * generation, and an SSH key rotated between two flips works. Where no membership of that backend was
 * registered in this update, the stored settings are used. The drain `method` and a server's health file
 * stay as the server was attached with (a server attached for the `drain` method has no health file).
 */
import type { MembershipSpec } from "./membershipSpec";

type Announced = Pick<MembershipSpec, "drain" | "ssh" | "detachTimeoutMs">;

/** Today's settings by backend, as the memberships registered in this update announced them. */
const announced = new Map<string, Announced>();

/** Records the settings of a membership the program registers (call it from `check`, with resolved inputs). */
export function announceSettings(spec: MembershipSpec): void {
    announced.set(spec.backend, { drain: spec.drain, ssh: spec.ssh, detachTimeoutMs: spec.detachTimeoutMs });
}

/** `stored` (a membership being deleted) with today's drain settings, detach timeout and SSH credentials of its backend, if announced. */
export function withTodaysSettings(stored: MembershipSpec): MembershipSpec {
    const today = announced.get(stored.backend);
    return today ? withSettingsOf(stored, today) : stored;
}

/**
 * `stored` with the drain settings, detach timeout and SSH credentials of `today`, keeping the drain method and health
 * file the server was attached with. An update passes its own new inputs; a delete, the announced ones.
 */
export function withSettingsOf(stored: MembershipSpec, today: Announced): MembershipSpec {
    const { method, healthFile } = stored.drain;
    const { healthFile: _todays, ...drain } = today.drain;
    return {
        ...stored,
        detachTimeoutMs: today.detachTimeoutMs,
        drain: { ...drain, method, ...(healthFile ? { healthFile } : {}) },
        ...(today.ssh ? { ssh: today.ssh } : {}),
    };
}

/** Forgets every announcement (tests). */
export function forgetAnnouncedSettings(): void {
    announced.clear();
}
