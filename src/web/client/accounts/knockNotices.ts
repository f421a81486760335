/**
 * Knocks on the account's call links on every calling page: `link.knock`
 * on the account's connection adds an item with Admit and Deny over the
 * page; `link.knockEnded` (answered on another device, or withdrawn) takes it away.
 */
import { knockItem } from '../links/knockPanel';
import type { Account } from './auth';
import type { Phone } from './Phone';

export function showKnockNotices(account: Account, phone: Phone): void {
	const root = document.createElement('aside');
	root.className = 'knocks card knock-notices';
	root.id = 'knock-notices';
	root.setAttribute('aria-label', 'People asking to join your call links');
	root.hidden = true;
	const list = document.createElement('ul');
	root.append(list);
	document.body.append(root);
	const shown = new Map<string, HTMLLIElement>();
	const drop = (knockId: string) => {
		shown.get(knockId)?.remove();
		shown.delete(knockId);
		root.hidden = shown.size === 0;
	};
	phone.signaling.on('link.knock', (knock) => {
		if (!shown.has(knock.knockId)) {
			const li = knockItem(account, knock, () => drop(knock.knockId), { withTitle: true });
			shown.set(knock.knockId, li);
			list.append(li);
			root.hidden = false;
		}
	});
	phone.signaling.on('link.knockEnded', ({ knockId }) => drop(knockId));
}
