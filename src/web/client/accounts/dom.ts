/** Small DOM helpers of the calling pages. */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
	return document.getElementById(id) as T;
}

/** Shows `message` in an error element, or hides it with undefined. */
export function showError(element: HTMLElement, message: string | undefined): void {
	element.textContent = message ?? '';
	element.hidden = message === undefined;
}

/** The initial shown in an avatar, with a hue taken from the handle so that people differ at a glance. */
export function fillAvatar(element: HTMLElement, handle: string, displayName: string): void {
	element.textContent = (displayName.trim()[0] ?? handle[0] ?? '?').toUpperCase();
	let hue = 0;
	for (const c of handle) {
		hue = (hue * 31 + c.charCodeAt(0)) % 360;
	}
	element.style.setProperty('--hue', String(hue));
}

/** A person's name with the verified mark: text nodes only, never HTML from the API. */
export function nameWithMark(displayName: string, verified: boolean): DocumentFragment {
	const fragment = document.createDocumentFragment();
	fragment.append(displayName);
	if (verified) {
		const mark = document.createElement('span');
		mark.className = 'verified';
		mark.title = 'Verified account';
		mark.setAttribute('aria-label', 'verified');
		mark.textContent = '✓';
		fragment.append(' ', mark);
	}
	return fragment;
}

/** A directory entry: avatar, name (verified mark), handle, linking to the profile. */
export function personItem(user: { handle: string; displayName: string; verified: boolean }): HTMLLIElement {
	const item = document.createElement('li');
	item.className = 'person';
	item.dataset.handle = user.handle;
	const link = document.createElement('a');
	link.href = `/u/${encodeURIComponent(user.handle)}`;
	const avatar = document.createElement('span');
	avatar.className = 'avatar';
	fillAvatar(avatar, user.handle, user.displayName);
	const name = document.createElement('span');
	name.className = 'name';
	name.append(nameWithMark(user.displayName, user.verified));
	const handle = document.createElement('span');
	handle.className = 'handle';
	handle.textContent = `@${user.handle}`;
	link.append(avatar, name, handle);
	item.append(link);
	return item;
}

/** 75000 -> "1:15". */
export function formatDuration(ms: number): string {
	const seconds = Math.max(0, Math.round(ms / 1000));
	const m = Math.floor(seconds / 60);
	const s = seconds % 60;
	return `${m}:${String(s).padStart(2, '0')}`;
}
