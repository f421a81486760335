/**
 * The call's side panels (the chat, More): each opens and closes with its
 * button, and one opening closes the other, so that on a phone they never
 * lie over each other. Escape (keyboard.ts) closes the open one and gives the
 * focus back to its button.
 */
type Panel = { button: HTMLButtonElement; panel: HTMLElement; set(open: boolean): void };

const panels = new Set<Panel>();

/** `changed` hears every open and close, the ones another panel or Escape causes too. */
export function wirePanel(button: HTMLButtonElement, panel: HTMLElement, changed?: (open: boolean) => void): void {
	// NOTE: the calling pages make a new room view for each call: the last call's panels are gone from the page.
	for (const old of panels) {
		if (!old.panel.isConnected) {
			panels.delete(old);
		}
	}
	const entry: Panel = {
		button,
		panel,
		set(open) {
			panel.hidden = !open;
			button.setAttribute('aria-pressed', String(open));
			changed?.(open);
		},
	};
	panels.add(entry);
	button.addEventListener('click', () => {
		const opening = panel.hidden;
		if (opening) {
			for (const other of panels) {
				if (other !== entry && !other.panel.hidden) {
					other.set(false);
				}
			}
		}
		entry.set(opening);
	});
}

/** Closes the open panel and focuses the button that opened it; false when none was open. */
export function closeOpenPanel(): boolean {
	for (const entry of panels) {
		if (entry.panel.isConnected && !entry.panel.hidden) {
			entry.set(false);
			entry.button.focus();
			return true;
		}
	}
	return false;
}
