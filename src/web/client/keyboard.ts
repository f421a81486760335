/**
 * The room view's keyboard shortcuts (which key does what: shortcutKeys.ts):
 * M mutes, V turns the camera off, ? opens the list of shortcuts in the More
 * panel, Escape closes the open panel. They act only while the room view is
 * shown and the call is on (not on the pre-join screen, not after leaving).
 */
import { announce } from './announcer';
import { closeOpenPanel } from './panels';
import { shortcutFor } from './shortcutKeys';

let wired = false;

/** What a toggle says once a shortcut pressed it (the focus is elsewhere, so the button itself is not read). */
const SAID: Record<'mute' | 'camera', [off: string, on: string]> = {
	mute: ['Microphone on', 'Microphone muted'],
	camera: ['Camera on', 'Camera off'],
};

function press(id: 'mute' | 'camera'): void {
	const button = document.getElementById(id) as HTMLButtonElement | null;
	if (!button || button.disabled) {
		return;
	}
	button.click();
	announce(SAID[id][button.getAttribute('aria-pressed') === 'true' ? 1 : 0]);
}

/** The shortcuts' list, in the More panel: opened, and the focus on its title. */
function showHelp(): void {
	const panel = document.getElementById('more-panel');
	if (panel?.hidden) {
		document.getElementById('more')?.click();
	}
	document.getElementById('shortcuts-title')?.focus();
}

/**
 * Listens to the document's keys, once per page. NOTE: the elements are
 * looked up at each key: the calling pages make a new room view for each call.
 */
export function wireShortcuts(): void {
	if (wired) {
		return;
	}
	wired = true;
	document.addEventListener('keydown', (event) => {
		const app = document.getElementById('app');
		if (event.defaultPrevented || !app || app.closest('[hidden]') || app.classList.contains('left')) {
			return;
		}
		const shortcut = shortcutFor(event, event.target instanceof HTMLElement ? event.target : null);
		if (shortcut === 'close') {
			if (closeOpenPanel()) {
				event.preventDefault();
			}
			return;
		}
		if (shortcut === undefined) {
			return;
		}
		event.preventDefault();
		if (shortcut === 'help') {
			showHelp();
		} else {
			press(shortcut);
		}
	});
}
