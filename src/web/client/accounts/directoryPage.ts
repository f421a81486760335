import { describeError } from './api';
import type { Account, Me } from './auth';
import { parseHandles } from './handles';
import { byId, personItem, showError } from './dom';
import type { Phone } from './Phone';

type Page = { users: Me[]; next?: string };

/**
 * /directory: search by handle or name (prefix); a group call to several
 * handles at once (one invite, each callee under the same rules); below, the
 * contacts and the people followed.
 */
export async function showDirectory(account: Account, phone: Phone): Promise<void> {
	const group = byId<HTMLFormElement>('group-call');
	group.addEventListener('submit', (event) => {
		event.preventDefault();
		const handles = parseHandles((group.elements.namedItem('handles') as HTMLInputElement).value);
		const media = (event.submitter as HTMLButtonElement | null)?.value === 'audio' ? 'audio' : 'video';
		const [first, ...others] = handles;
		if (first) {
			const name = others.length > 0 ? `@${first} and ${others.length} more` : `@${first}`;
			void phone.place({ handle: first, displayName: name, verified: false }, media, others);
		}
	});
	const form = byId<HTMLFormElement>('search');
	const input = form.querySelector('input')!;
	const error = byId('search-error');
	const results = byId('results');
	const list = byId('result-list');
	const more = byId<HTMLButtonElement>('results-more');
	let after: string | undefined;

	async function search(query: string, append: boolean): Promise<void> {
		showError(error, undefined);
		try {
			const params = new URLSearchParams({ q: query, ...(append && after ? { after } : {}) });
			const page = await account.api<Page>('GET', `/api/users?${params}`);
			if (!append) {
				list.replaceChildren();
			}
			list.append(...page.users.map(personItem));
			if (list.childElementCount === 0) {
				const none = document.createElement('li');
				none.className = 'muted';
				none.textContent = `Nobody found for “${query}”.`;
				list.append(none);
			}
			after = page.next;
			more.hidden = !after;
			results.hidden = false;
		} catch (failure) {
			showError(error, describeError(failure));
		}
	}

	form.addEventListener('submit', (event) => {
		event.preventDefault();
		const query = input.value.trim();
		if (!query) {
			results.hidden = true;
			return;
		}
		history.replaceState(null, '', `/directory?q=${encodeURIComponent(query)}`);
		void search(query, false);
	});
	more.addEventListener('click', () => void search(input.value.trim(), true));
	if (input.value.trim()) {
		void search(input.value.trim(), false);
	}
	await Promise.all([['contacts', 'contacts'], ['follows', 'following']].map(async ([path, id]) => {
		const { users } = await account.api<Page>('GET', `/api/me/${path}`);
		byId(id!).replaceChildren(...users.map(personItem));
		byId(`${id}-section`).hidden = users.length === 0;
	}));
}
