/**
 * The node's parts, wired together: what `src/main.ts` starts and what the
 * tests start in-process (test/helpers/node.ts), so both run the same wiring.
 */
import { AccountService } from './accounts';
import { buildApp, type App } from './app';
import { TokenService } from './auth';
import { CallService, Presence } from './calls';
import type { Config } from './config';
import type { Logger } from './logging';
import { WorkerPool } from './media';
import { createMetrics, type Metrics } from './metrics';
import { RoomRegistry } from './rooms';
import { openStore, type Store } from './store';
import type { Clock } from './util';

export type SwitchyardNode = {
	config: Readonly<Config>;
	tokens: TokenService;
	store: Store;
	accounts: AccountService;
	presence: Presence;
	calls: CallService;
	pool: WorkerPool;
	registry: RoomRegistry;
	metrics: Metrics;
	/** The HTTP server and socket.io, not listening yet. */
	app: App;
	/**
	 * Graceful drain: new rooms and calls get `draining` (and /readyz 503) at
	 * once; resolves true when every room has emptied, false after
	 * `timeoutSeconds`.
	 */
	drain(timeoutSeconds: number): Promise<boolean>;
	/** Closes everything, rooms first, the store last. */
	close(): Promise<void>;
};

/**
 * Builds a node: tokens, the store (SQLite, or PostgreSQL with store.url), accounts and calls, the worker pool, rooms, metrics, the app.
 * `clock`: the calls' (ring timeouts, history times, invite limits), the system's by default; tests pass a fake one.
 */
export async function createNode(config: Readonly<Config>, logger: Logger, { dev, clock }: { dev: boolean; clock?: Clock }): Promise<SwitchyardNode> {
	const tokens = await TokenService.create(config.auth, { dev });
	const store = await openStore(config.store, logger);
	const accounts = new AccountService({ store, tokens, config, logger });
	const presence = new Presence();
	const calls = new CallService({ store, presence, tokens, config: config.calls, logger, clock });
	followAccountChanges(accounts, calls);
	let pool: WorkerPool;
	try {
		pool = await WorkerPool.start({ config: config.media, logger });
	} catch (error) {
		await store.close();
		throw error;
	}
	const registry = new RoomRegistry({ pool, config, logger });
	const metrics = createMetrics({ pool, registry, calls, store, config: config.metrics });
	let app: App;
	try {
		app = buildApp({ config, logger, pool, metrics, tokens, accounts, calls, presence, registry, dev });
	} catch (error) {
		metrics.close();
		await pool.close();
		await store.close();
		throw new Error(`cannot start the HTTP server: ${(error as Error).message}`);
	}
	return {
		config, tokens, store, accounts, presence, calls, pool, registry, metrics, app,
		async drain(timeoutSeconds) {
			calls.drain();
			let timer: NodeJS.Timeout | undefined;
			const drained = await Promise.race([
				registry.drain().then(() => true),
				new Promise<boolean>((resolve) => {
					timer = setTimeout(() => resolve(false), timeoutSeconds * 1000);
				}),
			]);
			clearTimeout(timer);
			return drained;
		},
		async close() {
			registry.close();
			calls.close();
			await app.close();
			metrics.close();
			await pool.close();
			await store.close();
		},
	};
}

/**
 * Keeps ringing in line with accounts: a block, a settings change or a
 * deleted account re-checks the ringing invites of the accounts involved.
 */
function followAccountChanges(accounts: AccountService, calls: CallService): void {
	accounts.observer.on('relationChanged', (ownerId, targetId, kind) => {
		if (kind === 'block' || kind === 'contact' || kind === 'follow') {
			void calls.recheck(ownerId);
			void calls.recheck(targetId);
		}
	});
	accounts.observer.on('settingsChanged', (userId) => void calls.recheck(userId));
	accounts.observer.on('accountDeleted', (userId) => void calls.recheck(userId));
}
