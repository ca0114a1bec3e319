/**
 * Free loopback TCP ports for test processes: the same probe the local target uses.
 */
export { freePort } from "../src/targets/local/processes";
