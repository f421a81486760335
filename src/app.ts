import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import express from 'express';
import type { AccountService } from './accounts';
import { ApiKeys, type TokenService } from './auth';
import type { CallService, Presence } from './calls';
import { memoryLimiters, type LimiterFactory, type NodeRegistry } from './cluster';
import { proxyHops, type Config } from './config';
import { accountRoutes, apiDataBody, apiRoutes, clusterRoutes, linkRoutes, lobbyRoutes, reportRoutes, crossOrigin, devRoutes, errorHandler, healthRoutes, notFoundHandler, originCheck } from './http';
import type { CallLinks, LinkLobby } from './links';
import type { Logger } from './logging';
import type { WorkerPool } from './media';
import type { Metrics } from './metrics';
import type { RoomService, RoomRegistry } from './rooms';
import { createSignalingServer, type SignalingDeps, type SignalingServer } from './signaling';
import { webRoutes } from './web';

export type AppDeps = {
	config: Readonly<Config>;
	logger: Logger;
	pool: WorkerPool;
	metrics: Metrics;
	tokens: TokenService;
	accounts: AccountService;
	calls: CallService;
	/** Call links (src/links/CallLinks.ts). */
	links: CallLinks;
	/** The way into links' calls (src/links/LinkLobby.ts). */
	lobby: LinkLobby;
	presence: Presence;
	registry: RoomRegistry;
	/** The rooms of this node, or of every node of its fleet (the server API). */
	roomService: RoomService;
	/** The fleet's node registry, when the node is one of a cluster (cluster.redisUrl). */
	cluster?: NodeRegistry;
	/** The limits' counters: in the fleet's Redis on a cluster node, in memory by default. */
	limiters?: LimiterFactory;
	/** On a cluster node: calls `listener` when login sessions end on another node (cluster/FleetSessions.ts). */
	onSessionsEndedElsewhere?: (listener: (userId: string, which: { sessionId?: string; except?: string }) => void) => void;
	/** A cluster node's socket.io adapter (signaling/SignalingServer.ts). */
	adapter?: SignalingDeps['adapter'];
	/** A cluster node's room directory (rooms/FleetRooms.ts). */
	placement?: SignalingDeps['placement'];
	/** Dev mode: the open token route is mounted and loopback origins are allowed. */
	dev: boolean;
	/** The web client's bundle (web/routes.ts PUBLIC_DIR by default). */
	publicDir?: string;
};

export type App = {
	httpServer: http.Server | https.Server;
	io: SignalingServer['io'];
	/** Tells devices of their calls, on every node of a fleet. */
	devices: SignalingServer['devices'];
	/** Sender keys between the peers of calls' rooms (tests withhold some through it). */
	keys: SignalingServer['keys'];
	/** Stops taking connections and closes open ones (HTTP and socket.io). Idempotent. */
	close(): Promise<void>;
};

/**
 * Builds the HTTP API and the socket.io signaling server around their
 * dependencies. It never listens: main.ts listens on the configured port,
 * tests on port 0.
 */
export function buildApp(deps: AppDeps): App {
	const logger = deps.logger.child({ module: 'http' });
	const app = express();
	app.disable('x-powered-by');
	// NOTE: express then takes req.ip that many hops from the right of
	// X-Forwarded-For, the rule socket.io's clientAddress follows too.
	app.set('trust proxy', proxyHops(deps.config.http.trustProxy));
	if (deps.config.http.trustProxy === true) {
		logger.warn('http.trustProxy true trusts one proxy hop', { detail: 'set http.trustProxy to the number of proxies in front of the node' });
	}

	// Public: health, readiness and metrics.
	app.use(healthRoutes({ pool: deps.pool, metrics: deps.metrics, metricsToken: deps.config.metrics.token, draining: () => deps.registry.draining, cluster: deps.cluster }));
	app.use('/api', crossOrigin(deps.config.http.allowedOrigins, deps.dev), originCheck(deps.config.http.allowedOrigins, deps.dev));
	if (deps.dev) {
		logger.warn('dev mode is on', { detail: 'POST /api/dev/token hands out tokens to anyone on this host; set auth.dev to false in production' });
		app.use(devRoutes({ tokens: deps.tokens, perMinute: deps.config.auth.devTokensPerMinute }));
	}
	// NOTE: before accountRoutes, whose body parser takes every /api route and stops at 16 KiB.
	app.use(apiDataBody());
	app.use(accountRoutes({ accounts: deps.accounts, config: deps.config.accounts, limiters: deps.limiters ?? memoryLimiters }));
	app.use(reportRoutes({ accounts: deps.accounts, calls: deps.calls, config: deps.config, limiters: deps.limiters ?? memoryLimiters }));
	app.use(linkRoutes({ accounts: deps.accounts, links: deps.links, config: deps.config, limiters: deps.limiters ?? memoryLimiters }));
	app.use(lobbyRoutes({ accounts: deps.accounts, lobby: deps.lobby, config: deps.config, limiters: deps.limiters ?? memoryLimiters }));
	app.use(clusterRoutes({ accounts: deps.accounts, cluster: deps.cluster }));
	app.use(apiRoutes({ keys: new ApiKeys(deps.config.auth.apiKeys), tokens: deps.tokens, rooms: deps.roomService, config: deps.config, limiters: deps.limiters ?? memoryLimiters }));
	// A fleet's pages connect to the node that hosts their room: every node's origin is one of the fleet's.
	const cluster = deps.cluster;
	const fleetOrigins = cluster && (() => [...new Set(cluster.urls.map((url) => new URL(url).origin))]);
	// NOTE: connect-src names the WebSocket origins too: browsers do not match an http: source to a ws: URL of another origin.
	const connectOrigins = fleetOrigins && (() => [
		...fleetOrigins().flatMap((origin) => [origin, origin.replace(/^http/, 'ws')]), ...deps.config.cluster.connectOrigins,
	]);
	app.use(webRoutes({ connectOrigins, publicDir: deps.publicDir }));
	app.use(notFoundHandler);
	app.use(errorHandler(logger));

	const { tlsCertFile, tlsKeyFile } = deps.config.http;
	// NOTE: with a certificate the node serves HTTPS itself; browsers need a
	// secure origin for camera and microphone (localhost aside).
	const httpServer = tlsCertFile && tlsKeyFile
		? https.createServer({ cert: fs.readFileSync(tlsCertFile), key: fs.readFileSync(tlsKeyFile) }, app)
		: http.createServer(app);
	const signaling = createSignalingServer({
		httpServer,
		config: deps.config,
		logger: deps.logger,
		authenticate: (token) => deps.accounts.authenticate(token),
		registry: deps.registry,
		roomService: deps.roomService,
		calls: deps.calls,
		presence: deps.presence,
		// NOTE: a node alone counts connections per address in a plain map, for as long as each is open.
		fleetLimiters: deps.cluster ? deps.limiters : undefined,
		dev: deps.dev,
		routerRtpCapabilities: () => deps.pool.routerRtpCapabilities,
		onSessionsEnded: (listener) => {
			deps.accounts.observer.on('sessionsEnded', listener);
			deps.onSessionsEndedElsewhere?.(listener);
		},
		adapter: deps.adapter,
		placement: deps.placement,
		fleetOrigins,
	});
	deps.metrics.watchSignaling(signaling.observer);
	let closing: Promise<void> | undefined;

	return {
		httpServer,
		io: signaling.io,
		devices: signaling.devices,
		keys: signaling.keys,
		close() {
			closing ??= (async () => {
				const listening = httpServer.listening;
				// NOTE: closing socket.io closes the HTTP server it is attached to.
				const closed = signaling.close();
				if (listening) {
					httpServer.closeAllConnections();
				}
				await closed;
			})();
			return closing;
		},
	};
}
