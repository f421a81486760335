import { describeError } from './api';
import type { Account, Me } from './auth';
import { byId, personItem, showError } from './dom';

type Settings = {
	discoverable: boolean;
	calls: { enabled: boolean; allowFrom: { contacts: boolean; following: boolean; verified: boolean; everyone: boolean }; silenceOthers: boolean };
};
const ALLOW_FROM = ['contacts', 'following', 'verified', 'everyone'] as const;
/** With calls off nobody rings (nor is silenced), whatever these say. */
const UNDER_ENABLED = [...ALLOW_FROM, 'silenceOthers'] as const;

/** /settings: who can call me and whether the directory lists me (PATCH /api/me/settings); the blocked, with Unblock. */
export async function showSettings(account: Account): Promise<void> {
	const form = byId<HTMLFormElement>('settings');
	const save = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
	const error = byId('settings-error');
	const saved = byId('settings-saved');
	const box = (name: string) => form.elements.namedItem(name) as HTMLInputElement;

	const fill = (settings: Settings) => {
		box('discoverable').checked = settings.discoverable;
		box('enabled').checked = settings.calls.enabled;
		for (const key of ALLOW_FROM) {
			box(key).checked = settings.calls.allowFrom[key];
		}
		box('silenceOthers').checked = settings.calls.silenceOthers;
		for (const key of UNDER_ENABLED) {
			box(key).disabled = !settings.calls.enabled;
		}
	};
	fill(await account.api<Settings>('GET', '/api/me/settings'));
	form.addEventListener('change', () => {
		for (const key of UNDER_ENABLED) {
			box(key).disabled = !box('enabled').checked;
		}
		save.disabled = false;
		saved.hidden = true;
	});
	form.addEventListener('submit', async (event) => {
		event.preventDefault();
		showError(error, undefined);
		save.disabled = true;
		try {
			fill(await account.api<Settings>('PATCH', '/api/me/settings', {
				discoverable: box('discoverable').checked,
				calls: {
					enabled: box('enabled').checked,
					allowFrom: Object.fromEntries(ALLOW_FROM.map((key) => [key, box(key).checked])),
					silenceOthers: box('silenceOthers').checked,
				},
			}));
			saved.hidden = false;
		} catch (failure) {
			showError(error, describeError(failure));
			save.disabled = false;
		}
	});

	const { users } = await account.api<{ users: Me[] }>('GET', '/api/me/blocks');
	byId('blocked').replaceChildren(...users.map((user) => {
		const item = personItem(user);
		const unblock = document.createElement('button');
		unblock.type = 'button';
		unblock.className = 'quiet';
		unblock.textContent = 'Unblock';
		unblock.addEventListener('click', async () => {
			try {
				await account.api('DELETE', `/api/me/blocks/${encodeURIComponent(user.handle)}`);
				item.remove();
			} catch (failure) {
				showError(error, describeError(failure));
			}
		});
		item.append(unblock);
		return item;
	}));
	if (users.length === 0) {
		byId('blocked').textContent = 'Nobody.';
	}
}
