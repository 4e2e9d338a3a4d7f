// Text from a peer (agent names, hostnames, labels, log lines, paths, alert values) made inert
// before it reaches a terminal: control characters and bidi overrides become visible escapes, so a
// name cannot clear the screen, retitle the window, hide text or reorder a line.
//
// C0 controls show as `\x1b`; DEL, C1 controls and bidi overrides as `\u007f`, `\u009b`, `\u202e`,
// a form that is also a valid JSON escape, so JSON text passed through stays JSON with the same value
// (JSON.stringify already escapes C0 but leaves DEL, C1 and bidi characters raw).

const ALL = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const BUT_TAB_NL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

function escape(ch: string): string {
  const c = ch.charCodeAt(0);
  return c < 0x20 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
}

/** One field (a name, a label, a cell of a table): every control character escaped, tab and newline too. */
export function inert(s: unknown): string {
  return String(s).replace(ALL, escape);
}

/**
 * Text of several lines (a command's output, log lines, a notice): tabs and newlines stay, every
 * other control character is escaped. What `inert` or JSON.stringify produced passes unchanged.
 */
export function inertText(s: unknown): string {
  return String(s).replace(BUT_TAB_NL, escape);
}
