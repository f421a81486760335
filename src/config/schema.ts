import { z } from 'zod';

const port = z.number({ error: 'expected a port number' }).int({ error: 'expected a whole port number' })
	.min(1, { error: 'expected a port from 1 to 65535' }).max(65535, { error: 'expected a port from 1 to 65535' });
const WORKERS = 'expected "auto" or a whole number from 1 to 256';
const ip = z.union([z.ipv4(), z.ipv6()], { error: 'expected an IPv4 or IPv6 address' });

/** The shape and rules of the effective config; config/default.yaml documents each key. */
/** What an API key may do (docs/server-api.md): change rooms, mint tokens, read. */
export const API_SCOPES = ['rooms', 'tokens', 'read'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/**
 * One server API key, `key:secret[:scope+scope]` (the environment's form,
 * comma-separated): a key id, the secret its JWTs are signed with (at least
 * 32 characters), and its scopes (all of them when left out).
 */
const apiKeyEntry = z.string().max(600)
	.regex(/^[A-Za-z0-9_-]{3,64}:[^\s:,]{32,256}(:(rooms|tokens|read)(\+(rooms|tokens|read))*)?$/, {
		error: 'expected key:secret[:scope+scope], a key of 3-64 letters, digits, _ or -, a secret of 32-256 characters, scopes of rooms, tokens, read',
	})
	.transform((entry) => {
		const [key, secret, scopes] = entry.split(':') as [string, string, string | undefined];
		return { key, secret, scopes: scopes ? [...new Set(scopes.split('+') as ApiScope[])] : [...API_SCOPES] };
	});

export const configSchema = z.strictObject({
	http: z.strictObject({
		host: ip,
		port,
		allowedOrigins: z.array(z.url({ error: 'expected an origin such as https://app.example.org' }).max(256)).max(64),
		tlsCertFile: z.string().min(1).max(4096).nullable(),
		tlsKeyFile: z.string().min(1).max(4096).nullable(),
		trustProxy: z.union([z.boolean(), z.number().int().min(1).max(16)], { error: 'expected true, false or a number of hops' }),
	}),
	media: z.strictObject({
		workers: z.union([
			z.literal('auto'),
			z.number().int({ error: WORKERS }).min(1, { error: WORKERS }).max(256, { error: WORKERS }),
		], { error: WORKERS }),
		port,
		listenIp: ip,
		announcedAddress: z.string().min(1).max(253).nullable(),
		workerLogLevel: z.enum(['debug', 'warn', 'error', 'none']),
		usageIntervalMs: z.number().int().min(100).max(600_000),
		restartDelayMs: z.number().int().min(0).max(60_000),
		restartMaxDelayMs: z.number().int().min(0).max(600_000),
		restartFailuresBeforeUnready: z.number().int().min(1).max(100),
		maxIncomingBitrate: z.number().int().min(100_000).max(100_000_000),
		initialAvailableOutgoingBitrate: z.number().int().min(100_000).max(100_000_000),
		activeSpeakerIntervalMs: z.number().int().min(100).max(10_000),
	}),
	auth: z.strictObject({
		secret: z.string().min(32, { error: 'expected a secret of at least 32 characters' }).max(512).nullable(),
		publicKey: z.string().includes('-----BEGIN PUBLIC KEY-----', { error: 'expected a PEM public key' }).max(16_384).nullable(),
		issuer: z.string().min(1).max(512).nullable(),
		audience: z.string().min(1).max(512).nullable(),
		dev: z.union([z.literal('auto'), z.boolean()], { error: 'expected "auto", true or false' }),
		devForce: z.boolean(),
		devTokensPerMinute: z.number().int().min(1).max(1_000_000),
		tokenTtlSeconds: z.number().int().min(60).max(30 * 86_400),
		refreshTtlSeconds: z.number().int().min(60).max(400 * 86_400),
		adminToken: z.string().min(32, { error: 'expected a token of at least 32 characters' }).max(512).nullable(),
		apiKeys: z.array(apiKeyEntry).max(32).refine((keys) => new Set(keys.map((k) => k.key)).size === keys.length, { error: 'a key appears twice' }),
	}),
	store: z.strictObject({
		path: z.string().min(1).max(4096),
		url: z.string().max(4096).regex(/^postgres(ql)?:\/\/[^\s]+$/, { error: 'expected a postgres:// URL' }).nullable(),
		poolSize: z.number().int().min(1).max(1000),
		connectTimeoutMs: z.number().int().min(100).max(120_000),
		queryTimeoutMs: z.number().int().min(100).max(600_000),
		startupTimeoutSeconds: z.number().int().min(0).max(3600),
	}),
	accounts: z.strictObject({
		scryptCost: z.number().int().min(1024).max(1_048_576).refine((n) => (n & (n - 1)) === 0, { error: 'expected a power of two' }),
		signupsPerHour: z.number().int().min(1).max(1_000_000),
		loginsPerMinute: z.number().int().min(1).max(1_000_000),
		searchesPerMinute: z.number().int().min(1).max(1_000_000),
		relationWritesPerMinute: z.number().int().min(1).max(1_000_000),
		deviceWritesPerMinute: z.number().int().min(1).max(1_000_000),
		loginFailuresPerAccount: z.number().int().min(1).max(1_000_000),
		loginFailureWindowSeconds: z.number().int().min(1).max(86_400),
	}),
	calls: z.strictObject({
		ringTimeoutSeconds: z.number().int().min(1).max(600),
		placeRequiresPremium: z.boolean(),
		invitesPerMinute: z.number().int().min(1).max(10_000),
		unansweredPerDay: z.number().int().min(1).max(100_000),
		coolDownSeconds: z.number().int().min(0).max(86_400),
		reportsBeforeCoolDown: z.number().int().min(1).max(10_000),
		reportWindowHours: z.number().int().min(1).max(8760),
		newAccountHours: z.number().int().min(0).max(8760),
	}),
	links: z.strictObject({
		unusedDays: z.number().int().min(1).max(3650),
		perAccount: z.number().int().min(1).max(1000),
		knockWaitSeconds: z.number().int().min(10).max(3600),
		knockCoolDownSeconds: z.number().int().min(0).max(86_400),
		knocksPerMinute: z.number().int().min(1).max(1_000_000),
	}),
	rooms: z.strictObject({
		maxPeers: z.number().int().min(1).max(1000),
		e2eeMaxPeers: z.number().int().min(2).max(1000),
		routerConsumerLimit: z.number().int().min(0).max(100_000),
		emptyCloseGraceMs: z.number().int().min(0).max(3_600_000),
		reconnectGraceMs: z.number().int().min(0).max(3_600_000),
		maxTransportsPerPeer: z.number().int().min(1).max(16),
		maxProducersPerPeer: z.number().int().min(1).max(16),
		maxConsumersPerPeer: z.number().int().min(1).max(10_000),
		maxRooms: z.number().int().min(1).max(1_000_000),
		scoreIntervalMs: z.number().int().min(100).max(60_000),
	}),
	policy: z.strictObject({
		enabled: z.boolean(),
		intervalMs: z.number().int().min(50).max(10_000),
		thumbnailMaxHeight: z.number().int().min(1).max(10_000),
		mediumMaxHeight: z.number().int().min(1).max(10_000),
		midLayerFromPeers: z.number().int().min(2).max(1000),
		lowLayerFromPeers: z.number().int().min(2).max(1000),
		layerBitrates: z.array(z.coerce.number().int().min(10_000).max(50_000_000)).min(1).max(3),
		audioBitrate: z.number().int().min(6_000).max(510_000),
		publisherCapFromPeers: z.array(z.coerce.number().int().min(1).max(1000)).min(1).max(16),
		publisherCapBitrates: z.array(z.coerce.number().int().min(100_000).max(100_000_000)).min(1).max(16),
		maxDownlinkBitrate: z.number().int().min(100_000).max(1_000_000_000),
		keyFrameRequestDelayMs: z.number().int().min(0).max(10_000),
		layerSwitchIntervalMs: z.number().int().min(0).max(10_000),
		lowScore: z.number().int().min(0).max(10),
		recoverScore: z.number().int().min(0).max(10),
	}),
	signaling: z.strictObject({
		maxPayloadBytes: z.number().int().min(1024).max(10_000_000),
		maxMessageBytes: z.number().int().min(1024).max(100_000_000),
		messagesPerSecond: z.number().int().min(1).max(100_000),
		connectionsPerIp: z.number().int().min(1).max(100_000),
		requestTimeoutMs: z.number().int().min(100).max(120_000),
		chatMessagesPerMinute: z.number().int().min(1).max(100_000),
	}),
	drain: z.strictObject({
		timeoutSeconds: z.number().int().min(0).max(86_400),
	}),
	metrics: z.strictObject({
		token: z.string().min(16, { error: 'expected a token of at least 16 characters' }).max(512).nullable(),
		statsIntervalMs: z.number().int().min(500).max(600_000),
		targetCpu: z.number().gt(0).max(1),
	}),
	turn: z.strictObject({
		urls: z.array(z.string().regex(/^turns?:[^\s]+$/, { error: 'expected a turn: or turns: URL' }).max(512)).max(16),
		secret: z.string().min(16, { error: 'expected a secret of at least 16 characters' }).max(512).nullable(),
		credentialTtlSeconds: z.number().int().min(60).max(7 * 86_400),
		relayOnly: z.boolean(),
	}),
	cluster: z.strictObject({
		redisUrl: z.string().max(4096).regex(/^rediss?:\/\/[^\s]+$/, { error: 'expected a redis:// or rediss:// URL' }).nullable(),
		nodeId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected 1-64 letters, digits, ".", "_" or "-"' }).nullable(),
		nodeUrl: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).max(2048).nullable(),
		heartbeatMs: z.number().int().min(100).max(60_000),
		keyPrefix: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, { error: 'expected 1-64 letters, digits, ":", ".", "_" or "-"' }),
		connectOrigins: z.array(z.string().max(256).regex(/^(https?|wss?):\/\/(\*\.)?[A-Za-z0-9.-]+(:(\d{1,5}|\*))?$/, {
			error: 'expected a CSP source such as https://*.media.example.org or wss://media-1.example.org:8443',
		})).max(32),
		placement: z.enum(['home', 'nearest']),
		nodeMaxPeers: z.number().int().min(1).max(100_000).nullable(),
		pipeListenIp: ip,
		pipeAnnouncedAddress: z.string().min(1).max(253).nullable(),
		pipeMinPort: port,
		pipeMaxPort: port,
	}),
	webhooks: z.strictObject({
		urls: z.array(z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).max(2048)).max(16)
			.refine((urls) => new Set(urls).size === urls.length, { error: 'a URL appears twice' }),
		secret: z.string().min(32, { error: 'expected a secret of at least 32 characters' }).max(512).nullable(),
		queueSize: z.number().int().min(1).max(10_000_000),
		timeoutMs: z.number().int().min(100).max(120_000),
		retryMaxSeconds: z.number().int().min(1).max(3600),
	}),
	log: z.strictObject({
		level: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']),
		format: z.enum(['auto', 'json', 'pretty']),
	}),
}).check((ctx) => {
	const { auth } = ctx.value;
	if ((auth.publicKey === null) !== (auth.issuer === null)) {
		ctx.issues.push({ code: 'custom', path: ['auth', 'issuer'], input: auth.issuer, message: 'expected auth.publicKey and auth.issuer together' });
	}
	if (auth.audience !== null && auth.publicKey === null) {
		ctx.issues.push({ code: 'custom', path: ['auth', 'audience'], input: auth.audience, message: 'expected auth.publicKey with auth.audience' });
	}
	const { policy } = ctx.value;
	if (policy.mediumMaxHeight < policy.thumbnailMaxHeight) {
		ctx.issues.push({ code: 'custom', path: ['policy', 'mediumMaxHeight'], input: policy.mediumMaxHeight, message: 'expected at least policy.thumbnailMaxHeight' });
	}
	if (policy.recoverScore <= policy.lowScore && policy.lowScore > 0) {
		ctx.issues.push({ code: 'custom', path: ['policy', 'recoverScore'], input: policy.recoverScore, message: 'expected more than policy.lowScore' });
	}
	if (policy.lowLayerFromPeers < policy.midLayerFromPeers) {
		ctx.issues.push({ code: 'custom', path: ['policy', 'lowLayerFromPeers'], input: policy.lowLayerFromPeers, message: 'expected at least policy.midLayerFromPeers' });
	}
	if (policy.publisherCapBitrates.length !== policy.publisherCapFromPeers.length) {
		ctx.issues.push({ code: 'custom', path: ['policy', 'publisherCapBitrates'], input: policy.publisherCapBitrates, message: 'expected as many entries as policy.publisherCapFromPeers' });
	}
	if (policy.publisherCapFromPeers.some((n, i, all) => i > 0 && n <= all[i - 1]!)) {
		ctx.issues.push({ code: 'custom', path: ['policy', 'publisherCapFromPeers'], input: policy.publisherCapFromPeers, message: 'expected room sizes in ascending order' });
	}
	const { http, turn, cluster } = ctx.value;
	if (cluster.pipeMaxPort < cluster.pipeMinPort) {
		ctx.issues.push({ code: 'custom', path: ['cluster', 'pipeMaxPort'], input: cluster.pipeMaxPort, message: 'expected at least cluster.pipeMinPort' });
	}
	if ((cluster.pipeListenIp === '0.0.0.0' || cluster.pipeListenIp === '::') && cluster.pipeAnnouncedAddress === null) {
		ctx.issues.push({ code: 'custom', path: ['cluster', 'pipeAnnouncedAddress'], input: null, message: `expected the address other nodes reach this one at, with cluster.pipeListenIp ${cluster.pipeListenIp}` });
	}
	if (cluster.redisUrl !== null && auth.secret === null) {
		// NOTE: every node must verify every node's tokens and compute the same next refresh token.
		ctx.issues.push({ code: 'custom', path: ['auth', 'secret'], input: undefined, message: 'expected auth.secret with cluster.redisUrl: the nodes of a cluster must share it (dev mode\'s random per-start secret cannot work)' });
	}
	if ((http.tlsCertFile === null) !== (http.tlsKeyFile === null)) {
		ctx.issues.push({ code: 'custom', path: ['http', 'tlsKeyFile'], input: http.tlsKeyFile, message: 'expected http.tlsCertFile and http.tlsKeyFile together' });
	}
	if (turn.urls.length > 0 && turn.secret === null) {
		ctx.issues.push({ code: 'custom', path: ['turn', 'secret'], input: undefined, message: 'expected turn.secret with turn.urls' });
	}
	const { webhooks } = ctx.value;
	if (webhooks.urls.length > 0 && webhooks.secret === null) {
		ctx.issues.push({ code: 'custom', path: ['webhooks', 'secret'], input: undefined, message: 'expected webhooks.secret with webhooks.urls: every event is signed with it' });
	}
	if (turn.relayOnly && turn.urls.length === 0) {
		ctx.issues.push({ code: 'custom', path: ['turn', 'relayOnly'], input: true, message: 'expected turn.urls for relayOnly' });
	}
});

export type Config = z.infer<typeof configSchema>;

/**
 * The proxy hops `http.trustProxy` trusts: false none, a number that many,
 * and true one. NOTE: true once meant every hop, which let a client pick its
 * own address with X-Forwarded-For.
 */
export function proxyHops(trustProxy: Config['http']['trustProxy']): number {
	return trustProxy === true ? 1 : trustProxy === false ? 0 : trustProxy;
}
export type MediaConfig = Config['media'];
export type LogConfig = Config['log'];
export type AuthConfig = Config['auth'];
export type RoomsConfig = Config['rooms'];
export type PolicyConfig = Config['policy'];
export type SignalingConfig = Config['signaling'];
export type AccountsConfig = Config['accounts'];
export type CallsConfig = Config['calls'];
export type LinksConfig = Config['links'];
export type MetricsConfig = Config['metrics'];
export type TurnConfig = Config['turn'];
export type ClusterConfig = Config['cluster'];
export type WebhooksConfig = Config['webhooks'];

/** Keys whose values are secrets: printed as "[redacted]". */
export const SECRET_KEYS: ReadonlySet<string> = new Set<string>(['auth.secret', 'auth.adminToken', 'auth.apiKeys', 'metrics.token', 'turn.secret', 'store.url', 'cluster.redisUrl', 'webhooks.secret']);
