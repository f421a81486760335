/**
 * The call's side panels (the chat, More): each opens and closes with its
 * button, and one opening closes the other, so that on a phone they never
 * lie over each other.
 */
const closers = new Set<() => void>();

/** `changed` hears every open and close, the ones another panel causes too. */
export function wirePanel(button: HTMLButtonElement, panel: HTMLElement, changed?: (open: boolean) => void): void {
	const set = (open: boolean): void => {
		panel.hidden = !open;
		button.setAttribute('aria-pressed', String(open));
		changed?.(open);
	};
	const close = (): void => {
		if (!panel.hidden) {
			set(false);
		}
	};
	closers.add(close);
	button.addEventListener('click', () => {
		const opening = panel.hidden;
		if (opening) {
			for (const other of closers) {
				if (other !== close) {
					other();
				}
			}
		}
		set(opening);
	});
}
