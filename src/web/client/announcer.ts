/**
 * The page's one announcer: a visually hidden polite live region (#announcer,
 * in every page shell: pages.ts) that screen readers read out. Each line is
 * a new element, so two lines in a row are both read, and the same line twice
 * is read twice; a line is removed after a while so the region stays small.
 * Used for who joined and left, who is speaking (speakerNotices.ts) and
 * incoming calls (accounts/CallScreens.ts).
 */

/** How long a line stays in the region (it is read long before). */
const KEEP_MS = 10_000;

/** Says `text` to screen readers; nothing on a page without the region. */
export function announce(text: string): void {
	const region = document.getElementById('announcer');
	if (!region) {
		return;
	}
	const line = document.createElement('p');
	line.textContent = text;
	region.append(line);
	setTimeout(() => line.remove(), KEEP_MS);
}
