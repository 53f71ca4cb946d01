// Bounds the audit trail shares with the gateway. Its own module, since a
// Worker's entry module may export only handlers (workerd refuses a
// constant there); audit/worker.mjs and scripts/audit-id.mjs import it.

/**
 * The gateway's bound on an agent's or viewer's id, in characters (code
 * points, so an astral character counts one, as in Rust):
 * `MAX_AGENT_ID_CHARS` in src/core/ids.rs, which a test keeps equal. Every
 * id the gateway accepts fits; so does a viewer's pseudonym (16 hex digits).
 */
export const MAX_ID_CHARS = 128;
