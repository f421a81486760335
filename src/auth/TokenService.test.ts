import { generateKeyPairSync } from 'node:crypto';
import * as jose from 'jose';
import { mayJoinRoom, TokenService } from './TokenService';
import { fromThisHost, originAllowed, resolveDevMode } from './devMode';

const base = {
	secret: 'x'.repeat(32), publicKey: null, issuer: null, audience: null, dev: 'auto' as const, devForce: false, devTokensPerMinute: 10,
	tokenTtlSeconds: 3600, refreshTtlSeconds: 86400, adminToken: null, apiKeys: [],
};

async function refusal(tokens: TokenService, token: string): Promise<string> {
	try {
		await tokens.verify(token);
	} catch (error) {
		expect((error as { code: string }).code).toBe('unauthorized');
		return (error as Error).message;
	}
	throw new Error('expected the token to be refused');
}

describe('TokenService', () => {
	test('issues and verifies HS256 tokens with the documented claims', async () => {
		const tokens = await TokenService.create(base, { dev: false });
		const token = await tokens.issue({ sub: 'u1', handle: 'ada', name: 'Ada', verified: true, rooms: ['r1'] });
		const claims = await tokens.verify(token);
		expect(claims).toMatchObject({ sub: 'u1', handle: 'ada', name: 'Ada', verified: true, premium: false, rooms: ['r1'] });
		expect(mayJoinRoom(claims, 'r1')).toBe(true);
		expect(mayJoinRoom(claims, 'r2')).toBe(false);
	});

	test('the next refresh token: the same for the same token and secret, 43 base64url characters, another with another secret', async () => {
		const tokens = await TokenService.create(base, { dev: false });
		const other = await TokenService.create({ ...base, secret: 'y'.repeat(32) }, { dev: false });
		const next = tokens.nextRefreshToken('a-refresh-token');
		expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
		expect(tokens.nextRefreshToken('a-refresh-token')).toBe(next);
		expect(tokens.nextRefreshToken('another-refresh-token')).not.toBe(next);
		expect(other.nextRefreshToken('a-refresh-token')).not.toBe(next);
	});

	test('refuses expired, malformed, forged and unsigned tokens with a clear message', async () => {
		const tokens = await TokenService.create(base, { dev: false });
		expect(await refusal(tokens, await tokens.issue({ sub: 'u1' }, -10))).toBe('token expired');
		expect(await refusal(tokens, 'not.a.jwt')).toBe('invalid token');
		expect(await refusal(tokens, '')).toBe('invalid token');
		const forged = await new jose.SignJWT({ rooms: ['*'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x')
			.setExpirationTime('1h').sign(new TextEncoder().encode('y'.repeat(32)));
		expect(await refusal(tokens, forged)).toBe('invalid token');
		const unsigned = new jose.UnsecuredJWT({ rooms: ['*'] }).setSubject('x').setExpirationTime('1h').encode();
		expect(await refusal(tokens, unsigned)).toBe('invalid token');
		const noExpiry = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('x').sign(new TextEncoder().encode(base.secret));
		expect(await refusal(tokens, noExpiry)).toBe('invalid token');
		const badClaims = await new jose.SignJWT({ rooms: 'all' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x')
			.setExpirationTime('1h').sign(new TextEncoder().encode(base.secret));
		expect(await refusal(tokens, badClaims)).toBe('invalid token claims');
	});

	test("accepts an identity provider's tokens signed with its key and issuer, nothing else", async () => {
		const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
		const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
		const tokens = await TokenService.create({ ...base, publicKey: pem, issuer: 'https://idp.example' }, { dev: false });
		const sign = (issuer: string) => new jose.SignJWT({ name: 'Bo', premium: true, rooms: ['*'] })
			.setProtectedHeader({ alg: 'ES256' }).setSubject('idp|42').setIssuer(issuer).setExpirationTime('1h').sign(privateKey);
		expect(await tokens.verify(await sign('https://idp.example'))).toMatchObject({ sub: 'idp|42', premium: true });
		expect(await refusal(tokens, await sign('https://evil.example'))).toBe('invalid token');
	});

	test("auth.audience: when set, an identity provider's token must carry it; unset, any audience or none passes", async () => {
		const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
		const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
		const sign = (audience?: string | string[]) => {
			const jwt = new jose.SignJWT({ rooms: ['*'] }).setProtectedHeader({ alg: 'ES256' }).setSubject('idp|42')
				.setIssuer('https://idp.example').setExpirationTime('1h');
			return (audience === undefined ? jwt : jwt.setAudience(audience)).sign(privateKey);
		};
		const checked = await TokenService.create({ ...base, publicKey: pem, issuer: 'https://idp.example', audience: 'switchyard' }, { dev: false });
		expect(await checked.verify(await sign('switchyard'))).toMatchObject({ sub: 'idp|42' });
		expect(await checked.verify(await sign(['other-app', 'switchyard']))).toMatchObject({ sub: 'idp|42' });
		expect(await refusal(checked, await sign('other-app'))).toBe('invalid token');
		expect(await refusal(checked, await sign())).toBe('invalid token');
		// The node's own HS256 tokens carry no audience and are not the identity provider's.
		expect(await checked.verify(await checked.issue({ sub: 'u1' }))).toMatchObject({ sub: 'u1' });

		const unchecked = await TokenService.create({ ...base, publicKey: pem, issuer: 'https://idp.example' }, { dev: false });
		for (const audience of ['other-app', undefined]) {
			expect(await unchecked.verify(await sign(audience))).toMatchObject({ sub: 'idp|42' });
		}
	});

	test('the loadtest grant holds only in tokens signed with the node\'s own secret', async () => {
		const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
		const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
		const tokens = await TokenService.create({ ...base, publicKey: pem, issuer: 'https://idp.example' }, { dev: false });
		expect((await tokens.verify(await tokens.issue({ sub: 'gen', rooms: ['*'], loadtest: true }))).loadtest).toBe(true);
		expect((await tokens.verify(await tokens.issue({ sub: 'user', rooms: ['*'] }))).loadtest).toBe(false);
		const fromIdp = await new jose.SignJWT({ rooms: ['*'], loadtest: true })
			.setProtectedHeader({ alg: 'ES256' }).setSubject('idp|7').setIssuer('https://idp.example').setExpirationTime('1h').sign(privateKey);
		expect((await tokens.verify(fromIdp)).loadtest).toBe(false);
	});

	test('outside dev mode a secret or an identity provider is required', async () => {
		await expect(TokenService.create({ ...base, secret: null }, { dev: false })).rejects.toThrow('auth.secret');
		await expect(TokenService.create({ ...base, secret: null }, { dev: true })).resolves.toBeInstanceOf(TokenService);
	});
});

describe('dev mode and origins', () => {
	const http = { host: '127.0.0.1', port: 3000, allowedOrigins: [], trustProxy: false };
	const env = { nodeEnv: undefined };

	test('auto: on for loopback, off otherwise; forced on a public address only with devForce', () => {
		expect(resolveDevMode({ http, auth: base }, env)).toBe(true);
		expect(resolveDevMode({ http: { ...http, host: '::1' }, auth: base }, { nodeEnv: 'development' })).toBe(true);
		expect(resolveDevMode({ http: { ...http, host: '0.0.0.0' }, auth: base }, env)).toBe(false);
		expect(() => resolveDevMode({ http: { ...http, host: '0.0.0.0' }, auth: { ...base, dev: true } }, env)).toThrow('not loopback');
		expect(resolveDevMode({ http: { ...http, host: '0.0.0.0' }, auth: { ...base, dev: true, devForce: true } }, env)).toBe(true);
	});

	test('auto: off on loopback behind a reverse proxy (any http.trustProxy) and with NODE_ENV=production', () => {
		for (const trustProxy of [true, 1, 2]) {
			expect(resolveDevMode({ http: { ...http, trustProxy }, auth: base }, env)).toBe(false);
		}
		expect(resolveDevMode({ http, auth: base }, { nodeEnv: 'production' })).toBe(false);
		// Chosen explicitly, it stays the operator's choice.
		expect(resolveDevMode({ http: { ...http, trustProxy: 1 }, auth: { ...base, dev: true } }, { nodeEnv: 'production' })).toBe(true);
		expect(resolveDevMode({ http, auth: { ...base, dev: false } }, env)).toBe(false);
	});

	test.each([
		['127.0.0.1', {}, true],
		['127.8.9.10', {}, true],
		['::1', {}, true],
		['::ffff:127.0.0.1', {}, true],
		[undefined, {}, false],
		['10.0.0.7', {}, false],
		['203.0.113.9', {}, false],
		['::ffff:203.0.113.9', {}, false],
		['2001:db8::1', {}, false],
		['::', {}, false],
		['0.0.0.0', {}, false],
		['127.0.0.1', { 'x-forwarded-for': '127.0.0.1' }, false],
		['127.0.0.1', { forwarded: 'for=127.0.0.1' }, false],
		['127.0.0.1', { 'x-real-ip': '127.0.0.1' }, false],
		['127.0.0.1', { 'x-forwarded-for': '' }, false],
		['127.0.0.1', { host: '127.0.0.1:3000', 'x-forwarded-host': 'example.org' }, false],
		['127.0.0.1', { host: '127.0.0.1:3000', 'content-type': 'application/json', origin: 'http://localhost:3000' }, true],
	])('a dev token for peer %s with headers %j: %s', (peer, headers, expected) => {
		expect(fromThisHost(peer, headers)).toBe(expected);
	});

	test.each([
		[undefined, [], false, true],
		['https://app.example', ['https://app.example'], false, true],
		['https://evil.example', ['https://app.example'], false, false],
		['http://localhost:3000', [], true, true],
		['http://127.0.0.1:5173', [], true, true],
		['http://[::1]:3000', [], true, true],
		['http://localhost:3000', [], false, false],
		['null', [], true, false],
	])('origin %s with allow-list %j (dev %s): %s', (origin, allowed, dev, expected) => {
		expect(originAllowed(origin, allowed, dev)).toBe(expected);
	});
});
