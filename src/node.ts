/**
 * The node's parts, wired together: what `src/main.ts` starts and what the
 * tests start in-process (test/helpers/node.ts), so both run the same wiring.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AccountService, fleetSessions } from './accounts';
import { buildApp, type App } from './app';
import { TokenService } from './auth';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from 'ioredis';
import type { ServerOptions } from 'socket.io';
import { CallService, FleetCalls, FleetPresence, InviteLimiter, LocalPresence, RedisInviteLimiter, type DeviceSender, type Presence } from './calls';
import { Bus, NodeRegistry, createRedis, memoryLimiters, redisLimiters, type NodeStatus } from './cluster';
import type { Config } from './config';
import type { Logger } from './logging';
import { WorkerPool } from './media';
import { createMetrics, type Metrics } from './metrics';
import { CallLinks, LinkLobby, LocalKnocks, RedisKnocks } from './links';
import { FleetRooms, FleetSpans, NodePipes, Removals, RoomService, RoomRegistry, RoomSettingsStore } from './rooms';
import { openStore, type Store } from './store';
import { createWebhooks } from './webhooks';
import { systemClock, type Clock } from './util';

export type SwitchyardNode = {
	config: Readonly<Config>;
	tokens: TokenService;
	store: Store;
	accounts: AccountService;
	presence: Presence;
	calls: CallService;
	/** Call links (on the calls' clock). */
	links: CallLinks;
	/** The way into links' calls: knocks and their answers. */
	lobby: LinkLobby;
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
 * `clock`: the calls' (ring timeouts, history times, invite limits, call links' expiry and knocks), the system's by default; tests pass a fake one.
 * `publicDir`: where the web client's bundle is (dist/public by default; a test serves a build of its own).
 */
export async function createNode(
	config: Readonly<Config>, logger: Logger, { dev, clock, publicDir }: { dev: boolean; clock?: Clock; publicDir?: string },
): Promise<SwitchyardNode> {
	const tokens = await TokenService.create(config.auth, { dev });
	const store = await openStore(config.store, logger);
	const accounts = new AccountService({ store, tokens, config, logger });
	let pool: WorkerPool;
	try {
		pool = await WorkerPool.start({ config: config.media, logger });
	} catch (error) {
		await store.close();
		throw error;
	}
	// A fleet spans each room over the nodes its peers are on (rooms/FleetSpans.ts).
	let spans: FleetSpans | undefined;
	// The settings of rooms the server API created (in Redis on a fleet): set once the fleet is joined.
	let roomSettings: RoomSettingsStore | undefined;
	const registry = new RoomRegistry({ pool, config, logger, attach: async (room) => spans?.attach(room), settings: async (roomId) => roomSettings?.get(roomId) });
	let metrics: Metrics | undefined;
	const fleet = config.cluster.redisUrl === null ? undefined : await joinFleet(config, config.cluster.redisUrl, { store, clock: clock ?? systemClock, logger }, () => ({
		state: registry.draining ? 'draining' : pool.readiness().ready ? 'ready' : 'not_ready',
		rooms: registry.size,
		peers: registry.peerCount,
		headroom: metrics?.headroom() ?? null,
	}));
	// A fleet's room directory: joins find the node they go to (cluster.placement).
	const rooms = fleet && new FleetRooms({
		redis: fleet.redis, registry: fleet.registry, keyPrefix: config.cluster.keyPrefix, heartbeatMs: config.cluster.heartbeatMs,
		hosted: () => [...registry.rooms()].map((room) => room.id), draining: () => registry.draining, logger,
		placement: config.cluster, members: async (roomId) => spans?.members(roomId) ?? new Map(),
	});
	const pipes = fleet && new NodePipes({ bus: fleet.bus, registry: fleet.registry, rooms: registry, config: config.cluster, logger });
	spans = fleet && rooms && pipes && new FleetSpans({
		redis: fleet.redis, bus: fleet.bus, registry: fleet.registry, pipes, rooms: registry, directory: rooms,
		keyPrefix: config.cluster.keyPrefix, heartbeatMs: config.cluster.heartbeatMs, logger,
	});
	registry.observer.on('roomClosed', (room) => rooms?.released(room.id));
	const presence = fleet?.presence ?? new LocalPresence();
	const inviteLimits = fleet && new RedisInviteLimiter({
		redis: fleet.redis, keyPrefix: config.cluster.keyPrefix, config: config.calls, clock: clock ?? systemClock, insurance: new InviteLimiter(config.calls, clock ?? systemClock), logger,
	});
	const calls = new CallService({ store, presence, tokens, config: config.calls, logger, clock, inviteLimits, fleet: fleet?.calls });
	followAccountChanges(accounts, calls);
	const limiters = fleet ? redisLimiters(fleet.redis, config.cluster.keyPrefix) : memoryLimiters;
	const links = new CallLinks({ store, config: config.links, clock: clock ?? systemClock });
	const lobby = new LinkLobby({
		links, tokens, presence, config: config.links, clock: clock ?? systemClock, logger,
		knocks: fleet ? new RedisKnocks({ redis: fleet.redis, keyPrefix: config.cluster.keyPrefix }) : new LocalKnocks(clock ?? systemClock),
		coolDown: limiters('knockCoolDown', 1, Math.max(1, config.links.knockCoolDownSeconds)),
	});
	const cluster = fleet?.registry;
	const nodeId = fleet?.registry.nodeId ?? config.cluster.nodeId ?? 'this-node';
	roomSettings = new RoomSettingsStore({ clock: systemClock, redis: fleet && { client: fleet.redis, keyPrefix: config.cluster.keyPrefix } });
	const roomService = new RoomService({
		settings: roomSettings,
		// NOTE: on the system's clock: a removal is compared with tokens' issue times. It lasts as long as
		// the node's own tokens do (an identity provider's may last longer: docs/server-api.md).
		removals: new Removals({
			ttlMs: (config.auth.tokenTtlSeconds + 60) * 1000, clock: systemClock,
			redis: fleet && { client: fleet.redis, keyPrefix: config.cluster.keyPrefix },
		}),
		registry, logger, nodeId, fleet: fleet && { bus: fleet.bus, cluster: fleet.registry },
	});
	const webhooks = createWebhooks({
		config: config.webhooks, store, nodeId, rooms: registry, calls, redis: fleet && { client: fleet.redis, keyPrefix: config.cluster.keyPrefix }, clock: clock ?? systemClock, logger,
	});
	metrics = createMetrics({ pool, registry, calls, store, cluster, pipes, webhooks, config: config.metrics });
	let app: App;
	try {
		const sessions = fleet && fleetSessions(fleet.bus, accounts);
		app = buildApp({
			config, logger, pool, metrics, tokens, accounts, calls, links, lobby, presence, registry, roomService, cluster, limiters, dev, publicDir,
			adapter: fleet?.adapter, placement: rooms, onSessionsEndedElsewhere: sessions?.onEndedElsewhere,
		});
	} catch (error) {
		metrics.close();
		await webhooks?.close();
		await fleet?.close();
		await pool.close();
		await store.close();
		throw new Error(`cannot start the HTTP server: ${(error as Error).message}`);
	}
	// NOTE: the node starts even while Redis is away (its /readyz says cluster_unavailable until it is back).
	await fleet?.start(calls, app.devices);
	rooms?.start();
	pipes?.serve();
	spans?.start();
	return {
		config, tokens, store, accounts, presence, calls, links, lobby, pool, registry, cluster, metrics, app,
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
			if (!drained && rooms) {
				await moveRooms(registry, rooms);
			}
			return drained;
		},
		async close() {
			rooms?.close();
			spans?.close();
			registry.close();
			pipes?.close();
			calls.close();
			await app.close();
			// NOTE: after the rooms and calls closed, so that their last events are queued.
			await webhooks?.close();
			metrics!.close();
			await fleet?.close();
			await pool.close();
			await store.close();
		},
	};
}

/** A node's part in a fleet (cluster.redisUrl): its Redis connections and what uses them, owned here. */
type Fleet = {
	redis: Redis;
	bus: Bus;
	registry: NodeRegistry;
	presence: FleetPresence;
	calls: FleetCalls;
	adapter: NonNullable<ServerOptions['adapter']>;
	/** Heartbeats, serves the other nodes' requests and reaches devices through `devices`. */
	start(calls: CallService, devices: DeviceSender): Promise<void>;
	close(): Promise<void>;
};

/**
 * Connects to the fleet's Redis: one connection for commands (the registry,
 * presence, calls and limits share it), one for the bus's subscription and
 * one for socket.io's adapter (both wait while Redis is away, rather than
 * fail: see createRedis).
 */
async function joinFleet(
	config: Readonly<Config>, url: string, { store, clock, logger }: { store: Store; clock: Clock; logger: Logger }, status: () => NodeStatus,
): Promise<Fleet> {
	const nodeId = config.cluster.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
	const { keyPrefix } = config.cluster;
	const redis = createRedis(url, logger, nodeId);
	const subscriber = createRedis(url, logger, `${nodeId}-bus`, { waitWhileAway: true });
	const adapterRedis = createRedis(url, logger, `${nodeId}-socket.io`, { waitWhileAway: true });
	await redis.connect().catch(() => undefined);
	const registry = new NodeRegistry({
		redis, nodeId, url: config.cluster.nodeUrl, heartbeatMs: config.cluster.heartbeatMs, keyPrefix, release: RELEASE, status,
		// NOTE: the system's clock, not the calls' (tests fake that one): the fleet lives in real time.
		clock: systemClock,
		logger,
	});
	const bus = new Bus({ publisher: redis, subscriber, nodeId, keyPrefix, logger });
	const presence = new FleetPresence({ redis, registry, keyPrefix, logger });
	const calls = new FleetCalls({ redis, bus, registry, keyPrefix, store, presence, clock, logger });
	// Redis back after a restart has forgotten what this node had published: publish it again.
	redis.on('ready', () => {
		presence.republish();
		calls.republish();
	});
	return {
		redis, bus, registry, presence, calls,
		adapter: createAdapter(adapterRedis, { streamName: `${keyPrefix}socket.io`, channelPrefix: `${keyPrefix}socket.io` }),
		async start(callService, devices) {
			presence.attach(devices);
			await bus.start();
			await registry.start();
			calls.serve(callService);
		},
		async close() {
			bus.close();
			await registry.close();
			subscriber.disconnect();
			adapterRedis.disconnect();
			redis.disconnect();
		},
	};
}

/** How long a draining node whose time ran out still answers its peers' rejoins (with where their room went). */
const MOVE_GRACE_MS = 3000;

/**
 * A fleet's node whose drain ran out of time: its rooms leave the directory,
 * their peers get `session.reconnect` (`roomMoved`) and join again, and the
 * directory places each room on another node; the node answers for a few
 * seconds more, then closes.
 */
async function moveRooms(registry: RoomRegistry, rooms: FleetRooms): Promise<void> {
	await rooms.releaseAll();
	for (const room of registry.rooms()) {
		for (const peer of room.peers.values()) {
			peer.notify({ type: 'reconnect', reason: 'roomMoved' });
		}
	}
	await new Promise((resolve) => setTimeout(resolve, MOVE_GRACE_MS));
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
