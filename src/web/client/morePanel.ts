/**
 * The More button and its panel: the view toggle (grid / speaker), the
 * participant list and the device pickers, so that the phone's control bar
 * keeps one row of buttons. It and the chat are never open together (panels.ts).
 */
import type { Grid } from './Grid';
import { wirePanel } from './panels';

export function wireMore(grid: Grid): { count(count: number): void } {
	const button = document.getElementById('more') as HTMLButtonElement;
	const panel = document.getElementById('more-panel')!;
	const toggle = document.getElementById('view-toggle') as HTMLButtonElement;
	const title = document.getElementById('people-title')!;
	// The focus goes into the panel; Escape brings it back to the button (panels.ts).
	wirePanel(button, panel, (open) => open && toggle.focus());
	toggle.addEventListener('click', () => {
		const speaker = toggle.getAttribute('aria-pressed') !== 'true';
		toggle.setAttribute('aria-pressed', String(speaker));
		toggle.textContent = speaker ? 'Grid view' : 'Speaker view';
		grid.setView(speaker ? 'speaker' : 'grid');
	});
	return {
		count(count) {
			title.textContent = `People (${count})`;
			button.title = `People (${count}), view and devices`;
		},
	};
}
