import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_CONFIG_DIR, envNameOf, loadConfig, redactConfig } from './load';

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempConfigDir(files: Record<string, string>): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-config-'));
	tempDirs.push(dir);
	fs.copyFileSync(path.join(DEFAULT_CONFIG_DIR, 'default.yaml'), path.join(dir, 'default.yaml'));
	for (const [name, text] of Object.entries(files)) {
		fs.writeFileSync(path.join(dir, name), text);
	}
	return dir;
}

function configError(env: NodeJS.ProcessEnv, configDir?: string): string {
	try {
		loadConfig({ env, configDir });
	} catch (error) {
		expect(error).toBeInstanceOf(ConfigError);
		return (error as Error).message;
	}
	throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
	test('defaults: loopback HTTP on 3000, one worker per core from 40000', () => {
		const config = loadConfig({ env: {} });
		expect(config.http).toEqual({ host: '127.0.0.1', port: 3000, allowedOrigins: [], tlsCertFile: null, tlsKeyFile: null, trustProxy: false });
		expect(config.auth).toMatchObject({ secret: null, dev: 'auto' });
		expect(config.media).toMatchObject({ workers: 'auto', port: 40000, listenIp: '127.0.0.1', announcedAddress: null });
		expect(Object.isFrozen(config.media)).toBe(true);
	});

	test('env names follow SWITCHYARD_<SECTION>_<KEY>', () => {
		expect(envNameOf('media.workers')).toBe('SWITCHYARD_MEDIA_WORKERS');
		expect(envNameOf('media.listenIp')).toBe('SWITCHYARD_MEDIA_LISTEN_IP');
		expect(envNameOf('media.restartFailuresBeforeUnready')).toBe('SWITCHYARD_MEDIA_RESTART_FAILURES_BEFORE_UNREADY');
	});

	test('precedence: default < $NODE_ENV file < environment; shortcuts PORT and MEDIA_PORT', () => {
		const dir = tempConfigDir({ 'staging.yaml': 'http:\n  port: 4000\nmedia:\n  workers: 3\n  port: 50000\n' });
		expect(loadConfig({ configDir: dir, env: { NODE_ENV: 'staging' } }).http.port).toBe(4000);
		const config = loadConfig({
			configDir: dir,
			env: { NODE_ENV: 'staging', PORT: '5000', SWITCHYARD_MEDIA_WORKERS: '2', MEDIA_PORT: '45000', SWITCHYARD_MEDIA_ANNOUNCED_ADDRESS: 'media.example.org' },
		});
		expect(config.http.port).toBe(5000);
		expect(config.media).toMatchObject({ workers: 2, port: 45000, announcedAddress: 'media.example.org' });
	});

	test.each([
		[{ PORT: 'abc' }, 'http.port: expected a port number, got "abc" (from env PORT)'],
		[{ PORT: '70000' }, 'http.port: expected a port from 1 to 65535, got 70000 (from env PORT)'],
		[{ MEDIA_PORT: '0' }, 'media.port: expected a port from 1 to 65535, got 0 (from env MEDIA_PORT)'],
		[{ SWITCHYARD_MEDIA_WORKERS: '-1' }, 'media.workers: expected "auto" or a whole number from 1 to 256, got -1 (from env SWITCHYARD_MEDIA_WORKERS)'],
		[{ SWITCHYARD_LOG_LEVEL: 'loud' }, 'log.level: expected one of "error"|"warn"|"info"|"http"|"verbose"|"debug"|"silly", got "loud" (from env SWITCHYARD_LOG_LEVEL)'],
		[{ SWITCHYARD_MEDIA_LISTEN_IP: 'here' }, 'media.listenIp: expected an IPv4 or IPv6 address, got "here" (from env SWITCHYARD_MEDIA_LISTEN_IP)'],
		[{ SWITCHYARD_MEDIA_WORKER: '4' }, 'SWITCHYARD_MEDIA_WORKER: not a known setting'],
	])('bad env %j is refused with a clear message', (env, message) => {
		expect(configError(env)).toContain(message);
	});

	test('list settings take a comma-separated env value; auth.publicKey needs auth.issuer', () => {
		const config = loadConfig({ env: { SWITCHYARD_HTTP_ALLOWED_ORIGINS: 'https://a.example, https://b.example:8443' } });
		expect(config.http.allowedOrigins).toEqual(['https://a.example', 'https://b.example:8443']);
		expect(configError({ SWITCHYARD_HTTP_ALLOWED_ORIGINS: 'not an origin' })).toContain('http.allowedOrigins.0: expected an origin');
		expect(configError({ SWITCHYARD_AUTH_ISSUER: 'https://idp.example' })).toContain('expected auth.publicKey and auth.issuer together');
		expect(configError({ SWITCHYARD_AUTH_SECRET: 'short' })).toContain('auth.secret: expected a secret of at least 32 characters');
		// Secrets never appear in the message.
		expect(configError({ SWITCHYARD_AUTH_SECRET: 'short' })).not.toContain('"short"');
	});

	test('auth.apiKeys: key:secret[:scope+scope], all scopes by default; a bad entry is refused without showing its secret', () => {
		const secret = 'an-api-secret-of-enough-length-0123456789';
		const config = loadConfig({ env: { SWITCHYARD_AUTH_API_KEYS: `backend:${secret}, reader:${secret.toUpperCase()}:read, minter:${secret}x:tokens+read+tokens` } });
		expect(config.auth.apiKeys).toEqual([
			{ key: 'backend', secret, scopes: ['rooms', 'tokens', 'read'] },
			{ key: 'reader', secret: secret.toUpperCase(), scopes: ['read'] },
			{ key: 'minter', secret: `${secret}x`, scopes: ['tokens', 'read'] },
		]);
		const bad = configError({ SWITCHYARD_AUTH_API_KEYS: `backend:${secret}:everything` });
		expect(bad).toContain('auth.apiKeys.0: expected key:secret[:scope+scope]');
		expect(bad).toContain('(from env SWITCHYARD_AUTH_API_KEYS)');
		expect(bad).not.toContain(secret);
		expect(configError({ SWITCHYARD_AUTH_API_KEYS: `a1b:${secret},a1b:${secret}` })).toContain('auth.apiKeys: a key appears twice');
		expect(JSON.stringify(redactConfig(config))).not.toContain(secret);
	});

	test('webhooks: URLs from the environment, and a secret with them', () => {
		expect(configError({ SWITCHYARD_WEBHOOKS_URLS: 'https://hooks.example.org/in' })).toContain('expected webhooks.secret with webhooks.urls');
		const secret = 'a-webhook-secret-of-thirty-two-chars!';
		const config = loadConfig({ env: { SWITCHYARD_WEBHOOKS_URLS: 'https://a.example.org/in, http://127.0.0.1:9000/hooks', SWITCHYARD_WEBHOOKS_SECRET: secret } });
		expect(config.webhooks.urls).toEqual(['https://a.example.org/in', 'http://127.0.0.1:9000/hooks']);
		expect(JSON.stringify(redactConfig(config))).not.toContain(secret);
	});

	test('TLS files and TURN settings come in pairs', () => {
		expect(configError({ SWITCHYARD_HTTP_TLS_CERT_FILE: '/etc/cert.pem' })).toContain('expected http.tlsCertFile and http.tlsKeyFile together');
		expect(configError({ SWITCHYARD_TURN_URLS: 'turn:turn.example.org:3478' })).toContain('expected turn.secret with turn.urls');
		expect(configError({ SWITCHYARD_TURN_URLS: 'http://nope' , SWITCHYARD_TURN_SECRET: 'x'.repeat(20) })).toContain('turn.urls.0: expected a turn: or turns: URL');
		expect(configError({ SWITCHYARD_HTTP_TRUST_PROXY: 'maybe' })).toContain('http.trustProxy: expected true, false or a number of hops');
		expect(loadConfig({ env: { SWITCHYARD_HTTP_TRUST_PROXY: '2' } }).http.trustProxy).toBe(2);
	});

	test('a cluster needs auth.secret: the nodes must verify each other\'s tokens', () => {
		const redis = { SWITCHYARD_CLUSTER_REDIS_URL: 'redis://:hunter2@127.0.0.1:6380' };
		const message = configError(redis);
		expect(message).toContain('auth.secret: expected auth.secret with cluster.redisUrl');
		expect(message).not.toContain('hunter2');
		expect(loadConfig({ env: { ...redis, SWITCHYARD_AUTH_SECRET: 'a-cluster-wide-secret-0123456789abcdef' } }).cluster.redisUrl).toBe(redis.SWITCHYARD_CLUSTER_REDIS_URL);
		expect(loadConfig({ env: {} }).cluster).toMatchObject({ redisUrl: null, nodeId: null, nodeUrl: null, heartbeatMs: 2000, connectOrigins: [] });
	});

	test('cluster.connectOrigins takes CSP sources for the fleet\'s nodes, and nothing that could widen the policy', () => {
		const env = { SWITCHYARD_CLUSTER_CONNECT_ORIGINS: 'https://*.media.example.org, wss://*.media.example.org, http://127.0.0.1:*' };
		expect(loadConfig({ env }).cluster.connectOrigins).toEqual(['https://*.media.example.org', 'wss://*.media.example.org', 'http://127.0.0.1:*']);
		for (const bad of ['*', "'unsafe-inline'", 'https://*', 'https://a.example.org/path', 'javascript:alert(1)', 'https://a.example.org; script-src *']) {
			expect([bad, configError({ SWITCHYARD_CLUSTER_CONNECT_ORIGINS: bad })]).toEqual([bad, expect.stringContaining('cluster.connectOrigins.0: expected a CSP source')]);
		}
	});

	test('every bad key is reported at once, with the file it came from', () => {
		const dir = tempConfigDir({ 'production.yaml': 'http:\n  port: -5\nmedia:\n  wokers: 2\n' });
		const message = configError({ NODE_ENV: 'production', SWITCHYARD_LOG_FORMAT: 'xml' }, dir);
		expect(message).toContain('http.port: expected a port from 1 to 65535, got -5 (from config/production.yaml)');
		expect(message).toContain('media: unknown key wokers');
		expect(message).toContain('log.format');
	});

	test('a YAML file that does not parse is named', () => {
		const dir = tempConfigDir({ 'test.yaml': 'http: [port: 1\n' });
		expect(configError({ NODE_ENV: 'test' }, dir)).toMatch(/test\.yaml is not valid YAML/);
	});
});
