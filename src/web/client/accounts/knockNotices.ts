/**
 * Knocks on the account's call links on every calling page: `link.knock`
 * on the account's connection adds an item with Admit and Deny over the
 * page; `link.knockEnded` (answered on another device, or withdrawn) takes it away.
 */
import { KnockList } from '../links/knockPanel';
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
	const knocks = new KnockList(account, root, list, { withTitle: true });
	phone.signaling.on('link.knock', (knock) => knocks.add(knock));
	phone.signaling.on('link.knockEnded', ({ knockId }) => knocks.drop(knockId));
}
