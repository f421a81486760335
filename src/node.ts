/**
 * The node's parts, wired together: what `src/main.ts` starts and what the
 * tests start in-process (test/helpers/node.ts), so both run the same wiring.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AccountService } from './accounts';
import { buildApp, type App } from './app';
import { TokenService } from './auth';
import { CallService, InviteLimiter, Presence } from './calls';
import { NodeRegistry, RedisInviteLimiter, createRedis, memoryLimiters, redisLimiters } from './cluster';
import type { Config } from './config';
import type { Logger } from './logging';
import { WorkerPool } from './media';
import { createMetrics, type Metrics } from './metrics';
import { RoomRegistry } from './rooms';
import { openStore, type Store } from './store';
import { systemClock, type Clock } from './util';

export type SwitchyardNode = {
	config: Readonly<Config>;
	tokens: TokenService;
	store: Store;
	accounts: AccountService;
	presence: Presence;
	calls: CallService;
	pool: WorkerPool;
	registry: RoomRegistry;
	/** The fleet's node registry, when cluster.redisUrl is set. */
	cluster?: NodeRegistry;
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
	// One connection to the fleet's Redis, owned here: the registry and the limits share it.
	const redis = config.cluster.redisUrl === null ? undefined : createRedis(config.cluster.redisUrl, logger, config.cluster.nodeId ?? 'node');
	await redis?.connect().catch(() => undefined);
	const inviteLimits = redis && new RedisInviteLimiter({
		redis, keyPrefix: config.cluster.keyPrefix, config: config.calls, clock: clock ?? systemClock, insurance: new InviteLimiter(config.calls, clock ?? systemClock), logger,
	});
	const calls = new CallService({ store, presence, tokens, config: config.calls, logger, clock, inviteLimits });
	followAccountChanges(accounts, calls);
	let pool: WorkerPool;
	try {
		pool = await WorkerPool.start({ config: config.media, logger });
	} catch (error) {
		redis?.disconnect();
		await store.close();
		throw error;
	}
	const registry = new RoomRegistry({ pool, config, logger });
	let metrics: Metrics | undefined;
	const cluster = redis && new NodeRegistry({
		redis,
		nodeId: config.cluster.nodeId ?? `node-${randomUUID().slice(0, 8)}`,
		url: config.cluster.nodeUrl,
		heartbeatMs: config.cluster.heartbeatMs,
		keyPrefix: config.cluster.keyPrefix,
		release: RELEASE,
		status: () => ({
			state: registry.draining ? 'draining' : pool.readiness().ready ? 'ready' : 'not_ready',
			rooms: registry.size,
			peers: registry.peerCount,
			headroom: metrics?.headroom() ?? null,
		}),
		// NOTE: the system's clock, not the calls' (tests fake that one): the fleet lives in real time.
		clock: systemClock,
		logger,
	});
	metrics = createMetrics({ pool, registry, calls, store, cluster, config: config.metrics });
	let app: App;
	try {
		const limiters = redis ? redisLimiters(redis, config.cluster.keyPrefix) : memoryLimiters;
		app = buildApp({ config, logger, pool, metrics, tokens, accounts, calls, presence, registry, cluster, limiters, dev });
	} catch (error) {
		metrics.close();
		await cluster?.close();
		redis?.disconnect();
		await pool.close();
		await store.close();
		throw new Error(`cannot start the HTTP server: ${(error as Error).message}`);
	}
	// NOTE: the node starts even while Redis is away (its /readyz says cluster_unavailable until it is back).
	await cluster?.start();
	return {
		config, tokens, store, accounts, presence, calls, pool, registry, cluster, metrics, app,
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
			metrics!.close();
			await cluster?.close();
			redis?.disconnect();
			await pool.close();
			await store.close();
		},
	};
}

/** The release this node runs (package.json's version), as the node registry publishes it. */
const RELEASE = (JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

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
