/** Handles as people type them, for call.invite (no DOM: the unit tests import it). */

/** At most this many handles in one invite, as call.invite takes them. */
export const MAX_INVITEES = 8;

/** Handles typed by people: `@Gus, hal  ivy` -> gus, hal, ivy (lower-cased, each once, at most MAX_INVITEES). */
export function parseHandles(text: string): string[] {
	const handles = text.split(/[\s,;]+/).map((h) => h.replace(/^@/, '').toLowerCase()).filter(Boolean);
	return [...new Set(handles)].slice(0, MAX_INVITEES);
}
