import type { AccountService } from '../accounts';
import type { CallService } from './CallService';

/**
 * Keeps ringing in line with accounts: a block, a settings change or a
 * deleted account re-checks the ringing invites of the accounts involved.
 */
export function followAccountChanges(accounts: AccountService, calls: CallService): void {
	accounts.observer.on('relationChanged', (ownerId, targetId, kind) => {
		if (kind === 'block' || kind === 'contact' || kind === 'follow') {
			void calls.recheck(ownerId);
			void calls.recheck(targetId);
		}
	});
	accounts.observer.on('settingsChanged', (userId) => void calls.recheck(userId));
	accounts.observer.on('accountDeleted', (userId) => void calls.recheck(userId));
}
