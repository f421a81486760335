import { newSecret, secretFragment } from '../e2ee/link';
import { keepSecrets, rememberSecret, secretFor } from '../links/secrets';
import { describeError } from './api';
import type { Account } from './auth';
import { byId, showError } from './dom';

type OwnLink = { id: string; path: string; admit: 'anyone' | 'owner'; title: string; expiresAt: string };

/**
 * /links: the account's call links, newest first, each with its whole link
 * where this browser made it (the secret is made here and kept only here,
 * links/secrets.ts), who joins, the expiry, Copy and Revoke; and the form
 * for a new one (POST /api/me/links).
 */
export async function showLinks(account: Account): Promise<void> {
	const form = byId<HTMLFormElement>('new-link');
	const error = byId('links-error');
	const list = byId('links');

	const render = (links: OwnLink[]) => {
		keepSecrets(links.map((link) => link.id));
		list.replaceChildren(...links.map((link) => {
			const item = document.createElement('li');
			item.className = 'card link';
			item.dataset.linkId = link.id;
			const title = document.createElement('h2');
			title.textContent = link.title || 'Untitled call';
			const who = document.createElement('p');
			who.className = 'muted';
			who.textContent = `${link.admit === 'anyone' ? 'Anyone with the link joins' : 'You admit each person'} · expires ${new Date(link.expiresAt).toLocaleDateString()} unless used`;
			const secret = secretFor(link.id);
			const address = document.createElement('input');
			address.readOnly = true;
			address.className = 'link-address';
			address.value = secret ? `${location.origin}${link.path}${secretFragment(secret)}` : '';
			address.placeholder = 'The whole link is kept only in the browser that made it';
			address.setAttribute('aria-label', 'The link to share');
			const actions = document.createElement('div');
			actions.className = 'actions';
			const open = document.createElement('a');
			open.textContent = 'Open the call';
			open.hidden = !secret;
			open.href = address.value;
			const copy = document.createElement('button');
			copy.type = 'button';
			copy.textContent = 'Copy link';
			copy.disabled = !secret;
			copy.addEventListener('click', () => void navigator.clipboard?.writeText(address.value).then(() => {
				copy.textContent = 'Copied';
			}, () => address.select()));
			const revoke = document.createElement('button');
			revoke.type = 'button';
			revoke.className = 'danger revoke';
			revoke.textContent = 'Revoke';
			revoke.addEventListener('click', async () => {
				revoke.disabled = true;
				try {
					await account.api('DELETE', `/api/me/links/${encodeURIComponent(link.id)}`);
					await load();
				} catch (failure) {
					showError(error, describeError(failure));
					revoke.disabled = false;
				}
			});
			actions.append(copy, revoke, open);
			item.append(title, who, address, actions);
			return item;
		}));
		byId('links-empty').hidden = links.length > 0;
	};
	const load = async () => render((await account.api<{ links: OwnLink[] }>('GET', '/api/me/links')).links);

	form.addEventListener('submit', async (event) => {
		event.preventDefault();
		showError(error, undefined);
		const data = new FormData(form);
		try {
			const link = await account.api<OwnLink>('POST', '/api/me/links', { title: String(data.get('title') ?? '').trim(), admit: data.get('admit') === 'anyone' ? 'anyone' : 'owner' });
			rememberSecret(link.id, newSecret());
			form.reset();
			await load();
		} catch (failure) {
			showError(error, describeError(failure));
		}
	});
	await load();
}
