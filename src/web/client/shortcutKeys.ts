/**
 * The room view's keyboard shortcuts, as a pure decision: which key does what,
 * and when a key is the person typing rather than a shortcut. keyboard.ts
 * applies it to the page; pages.ts lists the same keys in the More panel
 * (test/unit/shortcutKeys.test.ts holds the two together). No DOM types here,
 * so that the unit tests compile without them.
 */

export type Shortcut = 'mute' | 'camera' | 'help' | 'close';

/** What shortcutFor reads of a keydown event. */
export type KeyPress = { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean; repeat?: boolean };

/** What shortcutFor reads of the element the key went to (the event's target). */
export type KeyTarget = { tagName?: string; type?: string; isContentEditable?: boolean } | null;

/** The keys and what they do, in the order the page lists them. */
export const SHORTCUTS: readonly { keys: string; does: string; shortcut: Shortcut }[] = [
	{ keys: 'M', does: 'Mute or unmute the microphone', shortcut: 'mute' },
	{ keys: 'V', does: 'Turn the camera off or on', shortcut: 'camera' },
	{ keys: '?', does: 'Show these shortcuts', shortcut: 'help' },
	{ keys: 'Esc', does: 'Close the open panel (More, chat)', shortcut: 'close' },
];

const LETTERS: Record<string, Shortcut> = { m: 'mute', v: 'camera' };

/** Inputs whose keys are not text: a letter pressed on one of them is a shortcut. */
const NOT_TEXT = new Set(['button', 'checkbox', 'radio', 'range', 'reset', 'submit', 'color', 'file', 'image']);

/** The person is typing into `target`: a text field, a text area, a select (which finds options by letter) or editable content. */
export function isTyping(target: KeyTarget): boolean {
	if (!target) {
		return false;
	}
	const tag = target.tagName?.toUpperCase();
	if (tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable === true) {
		return true;
	}
	return tag === 'INPUT' && !NOT_TEXT.has((target.type ?? 'text').toLowerCase());
}

/**
 * The shortcut a key press means, or undefined for none. Letters and "?" are
 * off while typing, with a modifier (the browser's and the system's own
 * shortcuts: Ctrl+V pastes) and when the key is held down (auto-repeat would
 * toggle the microphone on and off). Escape works everywhere, typing too:
 * it closes the chat from its own input.
 */
export function shortcutFor(press: KeyPress, target: KeyTarget): Shortcut | undefined {
	if (press.key === 'Escape') {
		return 'close';
	}
	if (press.ctrlKey || press.metaKey || press.altKey || press.repeat === true || isTyping(target)) {
		return undefined;
	}
	if (press.key === '?') {
		return 'help';
	}
	return LETTERS[press.key.toLowerCase()];
}
