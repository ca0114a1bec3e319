/** Where state written before the library moved to src/ looks for this provider (see components/README.md). */
export { default } from "../../src/haproxy/adoptionProvider";
