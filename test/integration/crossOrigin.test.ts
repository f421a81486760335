import { signup, type TestAccount } from '../helpers/accounts';
import { startTestNode, type TestNode } from '../helpers/node';

const APP = 'https://app.example.org';
const FOREIGN = 'https://evil.example.net';

// Browsers on http.allowedOrigins may use the API across origins (CORS);
// others are refused (403) and get no CORS headers to read anything with.
describe('the API across origins', () => {
	let node: TestNode;
	let account: TestAccount;

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, http: { allowedOrigins: [APP] } });
		account = await signup(node, 'cors_user');
	});
	afterAll(async () => {
		await node.close();
	});

	const preflight = (origin: string) => fetch(`${node.url}/api/me`, {
		method: 'OPTIONS',
		headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
	});
	const get = (origin: string | undefined) => fetch(`${node.url}/api/me`, {
		headers: { Authorization: `Bearer ${account.token}`, ...(origin ? { Origin: origin } : {}) },
	});

	test('an allowed origin: the preflight allows the bearer header; the request answers with CORS headers', async () => {
		const options = await preflight(APP);
		expect(options.status).toBe(204);
		expect(options.headers.get('access-control-allow-origin')).toBe(APP);
		expect(options.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
		expect(options.headers.get('access-control-allow-methods')).toContain('PATCH');
		expect(options.headers.get('access-control-allow-credentials')).toBeNull();

		const res = await get(APP);
		expect(res.status).toBe(200);
		expect(res.headers.get('access-control-allow-origin')).toBe(APP);
		expect(((await res.json()) as { handle: string }).handle).toBe('cors_user');
	});

	test('a foreign origin: no CORS headers, and 403 forbidden even with a valid token', async () => {
		const options = await preflight(FOREIGN);
		expect(options.headers.get('access-control-allow-origin')).toBeNull();
		const res = await get(FOREIGN);
		expect(res.status).toBe(403);
		expect(res.headers.get('access-control-allow-origin')).toBeNull();
		expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden');
	});

	test('no Origin (not a browser): served, with no CORS headers', async () => {
		const res = await get(undefined);
		expect(res.status).toBe(200);
		expect(res.headers.get('access-control-allow-origin')).toBeNull();
	});
});
