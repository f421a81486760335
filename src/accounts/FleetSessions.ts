import { z } from 'zod';
import type { Bus } from '../cluster';
import type { AccountService } from './AccountService';

type Which = { sessionId?: string; except?: string };
type Listener = (userId: string, which: Which) => void;

const id = z.string().min(1).max(64);
const sessionsEndedSchema = z.object({ userId: id, sessionId: id.optional(), except: id.optional() });

/**
 * Login sessions that end on one node (a logout, a password change, a
 * deletion, a reused refresh token) end the connections made with them on
 * every node: each node casts its own ends over the bus, and hears the
 * others'. A node that cannot hear a cast (Redis away) still refuses the
 * session's next handshake: that check reads the shared store.
 */
export function fleetSessions(bus: Bus, accounts: AccountService): { onEndedElsewhere(listener: Listener): void } {
	accounts.observer.on('sessionsEnded', (userId, which) => bus.cast('sessions.ended', { userId, ...which }));
	return {
		onEndedElsewhere(listener) {
			bus.listen('sessions.ended', sessionsEndedSchema, ({ userId, ...which }) => listener(userId, which));
		},
	};
}
