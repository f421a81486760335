import type http from 'node:http';
import type https from 'node:https';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { originAllowed, type Claims } from '../auth';
import { proxyHops, type Config } from '../config';
import type { LimiterFactory } from '../cluster';
import { fleetConnectionCounts, memoryConnectionCounts } from './connectionCounts';
import { AppError, toWire } from '../errors';
import type { Logger } from '../logging';
import type { ms } from '../media';
import type { CallNotificationName, CallNotifications, CallService, CallServiceAccessEvents, Presence } from '../calls';
import type { RoomRegistry, RoomService } from '../rooms';
import { handshakeAuth, PROTOCOL_VERSION } from './protocol';
import { ChatRelay } from './chatRelay';
import { KeyRelay } from './keyRelay';
import { Session, type SessionDeps, type SignalingEvents } from './Session';
import { TypedEmitter } from '../util';
import { callEvent, userRoom } from './wire';

export type SignalingDeps = {
	httpServer: http.Server | https.Server;
	config: Readonly<Config>;
	logger: Logger;
	/** Verifies a handshake's token (and, for account tokens, its login session). */
	authenticate: (token: string) => Promise<Claims>;
	registry: RoomRegistry;
	/** The server API's removals: a removed identity's older tokens do not join the room again. */
	roomService: Pick<RoomService, 'assertAdmits'>;
	calls: CallService;
	presence: Presence;
	/**
	 * On a cluster node, the fleet's limiters: connections per address then
	 * count across the fleet (connectionCounts.ts). Without, in this process.
	 */
	fleetLimiters?: LimiterFactory;
	dev: boolean;
	routerRtpCapabilities: () => ms.RtpCapabilities;
	/** Calls `listener` when login sessions end (logout, password change, deletion): their connections end too. */
	onSessionsEnded?: (listener: (userId: string, which: { sessionId?: string; except?: string }) => void) => void;
	/** A fleet's socket.io adapter (@socket.io/redis-streams-adapter), through which events reach sockets on every node. */
	adapter?: ServerOptions['adapter'];
	/** A fleet's node origins: pages any node served may connect here (their room is on this node). */
	fleetOrigins?: () => string[];
	/** A fleet's room directory: a join to a room hosted elsewhere is told where it is. */
	placement?: SessionDeps['placement'];
};

export type SignalingServer = {
	io: Server;
	/** Every answered request, for metrics. */
	observer: TypedEmitter<SignalingEvents>;
	/** Sender keys between the peers of calls' rooms (its test hook withholds some). */
	keys: KeyRelay;
	/** Tells devices of their calls through socket.io: on every node of a fleet with its adapter. */
	devices: {
		toUser<N extends CallNotificationName>(userId: string, except: string | undefined, name: N, data: CallNotifications[N]): void;
		toDevice<N extends CallNotificationName>(id: string, name: N, data: CallNotifications[N]): void;
	};
	close(): Promise<void>;
};

/**
 * The socket.io side of the node. The handshake must carry `auth.token` (a
 * valid JWT) and `auth.protocol` (PROTOCOL_VERSION); a browser's Origin must
 * be allowed. A refused handshake gets a connect_error whose `data` is
 * `{ code, message }`.
 */
export function createSignalingServer(deps: SignalingDeps): SignalingServer {
	const logger = deps.logger.child({ module: 'signaling' });
	const observer = new TypedEmitter<SignalingEvents>((event, error) => logger.error('signaling listener failed', { event, error }));
	const { config } = deps;
	const io = new Server(deps.httpServer, {
		path: '/socket.io',
		serveClient: false,
		// NOTE: messages up to maxMessageBytes reach the handlers, which answer
		// payload_too_large above maxPayloadBytes; larger ones close the connection.
		maxHttpBufferSize: config.signaling.maxMessageBytes,
		pingInterval: 10_000,
		pingTimeout: 5_000,
		...(deps.adapter ? { adapter: deps.adapter } : {}),
		allowRequest: (req, callback) => {
			const allowed = originAllowed(req.headers.origin, [...config.http.allowedOrigins, ...deps.fleetOrigins?.() ?? []], deps.dev);
			if (!allowed) {
				logger.debug('origin refused', { origin: String(req.headers.origin).slice(0, 256) });
			}
			callback(allowed ? null : 'origin not allowed', allowed);
		},
	});

	io.use((socket: Socket, next) => {
		authenticate(socket, deps.authenticate).then(() => next(), (error: unknown) => {
			const refusal = Object.assign(new Error((error as Error).message), { data: toWire(error).error });
			logger.debug('handshake refused', { code: refusal.data.code });
			next(refusal);
		});
	});

	// Connections at once per client IP, counted once authenticated (a refused
	// handshake never gets a disconnect to count it down).
	const counts = deps.fleetLimiters
		? fleetConnectionCounts(deps.fleetLimiters, config.signaling.connectionsPerIp)
		: memoryConnectionCounts(config.signaling.connectionsPerIp);
	const hops = proxyHops(config.http.trustProxy);
	io.use((socket: Socket, next) => {
		counts.take(clientAddress(socket, hops)).then((release) => {
			if (!release) {
				observer.safeEmit('limit', 'connectionsPerIp');
				next(Object.assign(new Error('too many connections'), {
					data: toWire(new AppError('limit_exceeded', `at most ${config.signaling.connectionsPerIp} connections per address`)).error,
				}));
				return;
			}
			// NOTE: socket.io drops without a disconnect a socket whose client hung up
			// during the handshake (it checks once next() is called, with no I/O between).
			if (socket.conn.readyState !== 'open') {
				release();
			} else {
				socket.once('disconnect', release);
			}
			next();
		}, (error: unknown) => {
			logger.warn('connection count failed', { error: (error as Error).message });
			next(Object.assign(new Error('cannot count connections'), { data: toWire(error).error }));
		});
	});

	const sessions = new Set<Session>();
	const keys = new KeyRelay();
	const chat = new ChatRelay(config.signaling.chatMessagesPerMinute);
	deps.onSessionsEnded?.((userId, { sessionId, except }) => {
		for (const session of [...sessions]) {
			const { sub } = session.claims;
			// A call's room token belongs to the session it was issued to.
			const sid = session.claims.sid ?? session.claims.psid;
			// NOTE: a deletion also ends connections made with tokens of no login
			// session; a logout ends just that session's.
			const ends = sub === userId && (sessionId !== undefined
				? sid === sessionId
				: except !== undefined ? sid !== undefined && sid !== except : true);
			if (ends) {
				session.end(sessionId !== undefined || except !== undefined ? 'loggedOut' : 'accountDeleted');
			}
		}
	});

	// A party of a call that lost its access leaves the call's room at once.
	// A peer within its reconnect grace just leaves (it has no connection to tell).
	const onPartyRemoved = ({ roomId, userId, reason }: CallServiceAccessEvents['partyRemoved'][0]): void => {
		const room = deps.registry.get(roomId);
		if (!room) {
			return;
		}
		for (const peer of [...room.peers.values()]) {
			if (peer.claims.sub === userId) {
				// NOTE: the event first: leave() drops the peer's connection.
				peer.notify({ type: 'removed', reason });
				room.leave(peer, 'removed');
			}
		}
	};
	deps.calls.events.on('partyRemoved', onPartyRemoved);

	io.on('connection', (socket) => {
		const claims = socket.data.claims;
		logger.debug('socket connected', { socketId: socket.id, sub: claims.sub });
		const session = new Session(socket, claims, {
			observer,
			registry: deps.registry,
			roomService: deps.roomService,
			calls: deps.calls,
			presence: deps.presence,
			config: config.signaling,
			logger: deps.logger,
			routerRtpCapabilities: deps.routerRtpCapabilities,
			placement: deps.placement,
			keys,
			chat,
		});
		sessions.add(session);
		socket.on('disconnect', () => sessions.delete(session));
	});

	return {
		io,
		observer,
		keys,
		devices: {
			toUser(userId, except, name, data) {
				const [event, payload] = callEvent(name, data);
				(except === undefined ? io.to(userRoom(userId)) : io.to(userRoom(userId)).except(except)).emit(event, payload);
			},
			toDevice(id, name, data) {
				const [event, payload] = callEvent(name, data);
				io.to(id).emit(event, payload);
			},
		},
		close: () => new Promise<void>((resolve) => {
			deps.calls.events.off('partyRemoved', onPartyRemoved);
			io.close(() => resolve());
		}),
	};
}

/**
 * The client's address: the socket's, or behind `hops` trusted proxies
 * (proxyHops of http.trustProxy) the X-Forwarded-For entry that many from
 * the right, which the outermost proxy wrote; entries left of it are the
 * client's to choose. A shorter list gives its leftmost entry. This is
 * express's rule for req.ip with `trust proxy` set to the same number.
 */
export function clientAddress(socket: Pick<Socket, 'handshake'>, hops: number): string {
	const forwarded = socket.handshake.headers['x-forwarded-for'];
	if (hops === 0 || typeof forwarded !== 'string') {
		return socket.handshake.address;
	}
	const entries = forwarded.split(',').map((part) => part.trim()).filter(Boolean);
	return entries[Math.max(0, entries.length - hops)] ?? socket.handshake.address;
}

async function authenticate(socket: Socket, verify: (token: string) => Promise<Claims>): Promise<void> {
	const auth = handshakeAuth.safeParse(socket.handshake.auth);
	if (!auth.success) {
		const token: unknown = socket.handshake.auth?.token;
		const missing = typeof token !== 'string' || token.length === 0 || token.length > 8192 ? 'auth.token' : 'auth.protocol';
		throw new AppError(missing === 'auth.token' ? 'unauthorized' : 'unsupported_protocol',
			missing === 'auth.token' ? 'a token is required (auth.token)' : `auth.protocol must be ${PROTOCOL_VERSION}`);
	}
	if (auth.data.protocol !== PROTOCOL_VERSION) {
		throw new AppError('unsupported_protocol', `this server speaks protocol ${PROTOCOL_VERSION}, the client ${auth.data.protocol}: reload the client`);
	}
	socket.data.claims = await verify(auth.data.token);
}
