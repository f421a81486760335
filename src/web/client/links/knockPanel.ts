/**
 * The owner's list of people who knock on its link, in the link's call view:
 * each with Admit and Deny (POST /api/me/links/:id/knocks/:knockId). It asks
 * for the waiting knocks every 2 s (GET /api/me/links/:id/knocks), so a knock
 * made before the page opened, or answered on another device, shows right.
 */
import type { Account } from '../accounts/auth';
import { describeError } from '../accounts/api';
import { nameWithMark } from '../accounts/dom';

type KnockView = { knockId: string; name: string; handle?: string; verified: boolean; guest: boolean };

const POLL_MS = 2000;

export function showKnocks(account: Account, linkId: string, root: HTMLElement, list: HTMLElement): void {
	const shown = new Map<string, HTMLLIElement>();
	const path = `/api/me/links/${encodeURIComponent(linkId)}/knocks`;

	const item = (knock: KnockView): HTMLLIElement => {
		const li = document.createElement('li');
		li.className = 'knock';
		li.dataset.knockId = knock.knockId;
		const who = document.createElement('span');
		who.className = 'knock-name';
		who.append(nameWithMark(knock.name, knock.verified), knock.guest ? ' (guest)' : ` @${knock.handle ?? ''}`);
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
					await account.api('POST', `${path}/${encodeURIComponent(knock.knockId)}`, { admit });
					li.remove();
					shown.delete(knock.knockId);
					root.hidden = shown.size === 0;
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
	};

	const refresh = async () => {
		const { knocks } = await account.api<{ knocks: KnockView[] }>('GET', path);
		const waiting = new Set(knocks.map((knock) => knock.knockId));
		for (const [id, li] of shown) {
			if (!waiting.has(id)) {
				li.remove();
				shown.delete(id);
			}
		}
		for (const knock of knocks) {
			if (!shown.has(knock.knockId)) {
				const li = item(knock);
				shown.set(knock.knockId, li);
				list.append(li);
			}
		}
		root.hidden = shown.size === 0;
	};
	const tick = () => {
		refresh().catch((error: Error) => console.warn('switchyard: knocks not read', error.message))
			.finally(() => setTimeout(tick, POLL_MS));
	};
	tick();
}
