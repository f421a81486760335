/**
 * Knocks on the account's call links, with Admit and Deny (POST
 * /api/me/links/:id/knocks/:knockId): the owner's list in the link's call
 * view (`showKnocks`, which asks for the waiting knocks every 2 s, so a knock
 * made before the page opened, or answered on another device, shows right),
 * and the item every calling page shows on `link.knock` (accounts/calls.ts).
 */
import type { ServerEventData } from '../../../signaling/protocol';
import { describeError } from '../accounts/api';
import type { Account } from '../accounts/auth';
import { nameWithMark } from '../accounts/dom';

export type KnockView = ServerEventData<'link.knock'>;

const POLL_MS = 2000;

/** One knock: who (guest or account), the link's title when asked, Deny, Admit; `done` once answered. */
export function knockItem(account: Account, knock: KnockView, done: () => void, { withTitle = false } = {}): HTMLLIElement {
	const li = document.createElement('li');
	li.className = 'knock';
	li.dataset.knockId = knock.knockId;
	const who = document.createElement('span');
	who.className = 'knock-name';
	who.append(nameWithMark(knock.name, knock.verified), knock.guest ? ' (guest)' : ` @${knock.handle ?? ''}`);
	if (withTitle) {
		who.append(` asks to join ${knock.title || 'your call link'}`);
	}
	const error = document.createElement('span');
	error.className = 'form-error';
	error.hidden = true;
	const button = (label: string, admit: boolean, className: string) => {
		const b = document.createElement('button');
		b.type = 'button';
		b.className = className;
		b.dataset.answer = admit ? 'admit' : 'deny';
		b.textContent = label;
		b.addEventListener('click', async () => {
			b.disabled = true;
			try {
				await account.api('POST', `/api/me/links/${encodeURIComponent(knock.linkId)}/knocks/${encodeURIComponent(knock.knockId)}`, { admit });
				done();
			} catch (failure) {
				error.textContent = describeError(failure);
				error.hidden = false;
				b.disabled = false;
			}
		});
		return b;
	};
	li.append(who, button('Deny', false, 'quiet'), button('Admit', true, 'accept'), error);
	return li;
}

/** The list of knocks on the link `linkId` in `list`, `root` shown while there is one. */
export function showKnocks(account: Account, linkId: string, root: HTMLElement, list: HTMLElement): void {
	const shown = new Map<string, HTMLLIElement>();
	const drop = (knockId: string) => {
		shown.get(knockId)?.remove();
		shown.delete(knockId);
		root.hidden = shown.size === 0;
	};
	const refresh = async () => {
		const { knocks } = await account.api<{ knocks: KnockView[] }>('GET', `/api/me/links/${encodeURIComponent(linkId)}/knocks`);
		const waiting = new Set(knocks.map((knock) => knock.knockId));
		for (const id of shown.keys()) {
			if (!waiting.has(id)) {
				drop(id);
			}
		}
		for (const knock of knocks.filter((k) => !shown.has(k.knockId))) {
			const li = knockItem(account, knock, () => drop(knock.knockId));
			shown.set(knock.knockId, li);
			list.append(li);
		}
		root.hidden = shown.size === 0;
	};
	const tick = () => {
		refresh().catch((error: Error) => console.warn('switchyard: knocks not read', error.message))
			.finally(() => setTimeout(tick, POLL_MS));
	};
	tick();
}
