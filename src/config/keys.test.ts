import { ConfigError, envNameOf, loadConfig } from './load';

type Leaf = { key: string; value: unknown };

/** Every leaf key of the effective default config, with its default. */
function leaves(node: Record<string, unknown>, prefix = ''): Leaf[] {
	return Object.entries(node).flatMap(([name, value]) => {
		const key = prefix ? `${prefix}.${name}` : name;
		return value !== null && typeof value === 'object' && !Array.isArray(value) ? leaves(value as Record<string, unknown>, key) : [{ key, value }];
	});
}

/** Values a key must refuse, by the kind of its default; hand-picked where the kind says too little. */
function badValues({ key, value }: Leaf): string[] {
	const special: Record<string, string[]> = {
		'media.workers': ['0', 'many', '1.5'],
		'http.host': ['localhost', '300.1.1.1'],
		'media.listenIp': ['example.org'],
		'http.trustProxy': ['-1', '17', 'yes'],
		'auth.dev': ['sometimes'],
		'log.level': ['loud'],
		'log.format': ['xml'],
		'media.workerLogLevel': ['chatty'],
		'http.allowedOrigins': ['not a url'],
		'turn.urls': ['http://turn.example.org'],
		'auth.secret': ['short'],
		'auth.adminToken': ['short'],
		'auth.apiKeys': ['k1:short', 'k1:0123456789abcdef0123456789abcdef:admin', 'k1:0123456789abcdef0123456789abcdef,k1:fedcba9876543210fedcba9876543210'],
		'metrics.token': ['short'],
		'turn.secret': ['short'],
		'auth.publicKey': ['not a pem'],
		'auth.audience': ['x'.repeat(513)],
		'store.url': ['mysql://db.example.org/switchyard', 'postgres://'],
		'cluster.redisUrl': ['http://redis.example.org', 'redis://'],
		'cluster.nodeId': ['has space', 'x'.repeat(65)],
		'cluster.nodeUrl': ['ftp://media.example.org', 'not a url'],
		'cluster.keyPrefix': ['', 'with space'],
		'cluster.placement': ['everywhere', '1'],
		'cluster.nodeMaxPeers': ['0', '1.5'],
		'cluster.pipeListenIp': ['localhost', '10.0.0'],
		'cluster.pipeAnnouncedAddress': ['x'.repeat(254)],
		'webhooks.urls': ['ftp://hooks.example.org', 'not a url', 'https://hooks.example.org/a,https://hooks.example.org/a'],
		'webhooks.secret': ['short'],
	};
	if (special[key]) {
		return special[key]!;
	}
	if (typeof value === 'number') {
		return ['not-a-number', '-1', '999999999999'];
	}
	if (typeof value === 'boolean') {
		return ['maybe', '2'];
	}
	if (Array.isArray(value)) {
		return ['a,b'];
	}
	return [];
}

describe('every config key refuses a bad value, naming the key', () => {
	const all = leaves(loadConfig({ env: {} }) as unknown as Record<string, unknown>);
	/** Keys for which any string is a valid value (paths, names): nothing generic to refuse. */
	const free = new Set(['http.tlsCertFile', 'http.tlsKeyFile', 'store.path', 'media.announcedAddress', 'auth.issuer']);
	const cases = all.filter((leaf) => !free.has(leaf.key)).flatMap((leaf) => badValues(leaf).map((bad) => [leaf.key, bad] as const));

	test('every key but the free-form ones has bad values to try', () => {
		const covered = new Set(cases.map(([key]) => key));
		expect(all.map((l) => l.key).filter((key) => !covered.has(key) && !free.has(key))).toEqual([]);
	});

	test.each(cases)('%s = %j is refused', (key, bad) => {
		const env: NodeJS.ProcessEnv = { [envNameOf(key)]: bad };
		let message = '';
		try {
			loadConfig({ env });
		} catch (error) {
			expect(error).toBeInstanceOf(ConfigError);
			message = (error as Error).message;
		}
		expect(message).toContain(key);
	});
});
