/**
 * Free loopback TCP ports for test processes: the same probe the local target uses.
 */
export { freePort } from "../../components/local/processes";
