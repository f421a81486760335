/**
 * Knocks on the account's call links, with Admit and Deny (POST
 * /api/me/links/:id/knocks/:knockId): the owner's list in the link's call
 * view (`showKnocks`, which asks for the waiting knocks every 2 s, so a knock
 * made before the page opened, or answered on another device, shows right),
 * and KnockList, which the notices of every calling page use too (accounts/knockNotices.ts).
 */
import type { ServerEventData } from '../../../signaling/protocol';
import { describeError } from '../accounts/api';
import type { Account } from '../accounts/auth';
import { nameWithMark } from '../accounts/dom';

export type KnockView = ServerEventData<'link.knock'>;

const POLL_MS = 2000;

/** One knock: who (guest or account), the link's title when asked, Deny, Admit; `done` once answered. */
function knockItem(account: Account, knock: KnockView, done: () => void, { withTitle = false } = {}): HTMLLIElement {
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

/**
 * The knocks shown in `list` (each an item with Admit and Deny), `root`
 * shown while there is one: the one piece behind the link page's list and
 * the notices of the calling pages.
 */
export class KnockList {
	readonly #shown = new Map<string, HTMLLIElement>();
	readonly #account: Account;
	readonly #root: HTMLElement;
	readonly #list: HTMLElement;
	readonly #withTitle: boolean;

	constructor(account: Account, root: HTMLElement, list: HTMLElement, { withTitle = false } = {}) {
		this.#account = account;
		this.#root = root;
		this.#list = list;
		this.#withTitle = withTitle;
	}

	add(knock: KnockView): void {
		if (!this.#shown.has(knock.knockId)) {
			const li = knockItem(this.#account, knock, () => this.drop(knock.knockId), { withTitle: this.#withTitle });
			this.#shown.set(knock.knockId, li);
			this.#list.append(li);
		}
		this.#root.hidden = false;
	}

	drop(knockId: string): void {
		this.#shown.get(knockId)?.remove();
		this.#shown.delete(knockId);
		this.#root.hidden = this.#shown.size === 0;
	}

	/** Shows exactly `knocks`: the others go. */
	sync(knocks: KnockView[]): void {
		const waiting = new Set(knocks.map((knock) => knock.knockId));
		for (const id of [...this.#shown.keys()].filter((shown) => !waiting.has(shown))) {
			this.drop(id);
		}
		knocks.forEach((knock) => this.add(knock));
		this.#root.hidden = this.#shown.size === 0;
	}
}

/** The list of knocks on the link `linkId` in `list`, `root` shown while there is one, asked for every 2 s. */
export function showKnocks(account: Account, linkId: string, root: HTMLElement, list: HTMLElement): void {
	const knocks = new KnockList(account, root, list);
	const tick = () => {
		account.api<{ knocks: KnockView[] }>('GET', `/api/me/links/${encodeURIComponent(linkId)}/knocks`)
			.then(({ knocks: waiting }) => knocks.sync(waiting))
			.catch((error: Error) => console.warn('switchyard: knocks not read', error.message))
			.finally(() => setTimeout(tick, POLL_MS));
	};
	tick();
}
