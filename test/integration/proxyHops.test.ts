import { startTestNode, type TestNode } from '../helpers/node';
import { SignalingClient } from '../helpers/signalingClient';

// Behind one proxy (the nginx of docs/deploy.md appends the address it saw to
// X-Forwarded-For): a client that sends its own X-Forwarded-For must not pick
// the address its limits are counted under, over HTTP or socket.io.
describe('http.trustProxy: the client address is taken by hop count from the right', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];
	let spoofs = 0;
	/** What the proxy sends for a client at `address` that wrote a different X-Forwarded-For each time. */
	const forwardedFor = (address: string) => `198.51.100.${++spoofs}, ${address}`;

	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			http: { trustProxy: true },
			accounts: { loginsPerMinute: 3 },
			signaling: { connectionsPerIp: 2 },
		});
	});
	afterAll(async () => {
		clients.forEach((c) => c.disconnect());
		await node.close();
	});

	test('true is one hop, and startup warns that it is', () => {
		expect(node.logLines()).toContainEqual(expect.objectContaining({ level: 'warn', message: 'http.trustProxy true trusts one proxy hop' }));
	});

	test('HTTP: the per-IP limit counts the address the proxy saw, whatever the client wrote left of it', async () => {
		// POST /api/auth/refresh is limited per IP (accounts.loginsPerMinute) before its body is read.
		const refresh = (address: string) => fetch(`${node.url}/api/auth/refresh`, {
			method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': forwardedFor(address) }, body: '{}',
		}).then((res) => res.status);
		for (let i = 0; i < 3; i++) {
			expect(await refresh('203.0.113.9')).toBe(400);
		}
		expect(await refresh('203.0.113.9')).toBe(429);
		// Another client behind the same proxy is not locked out.
		expect(await refresh('203.0.113.10')).toBe(400);
	});

	test('socket.io: connections per IP count the address the proxy saw', async () => {
		const connect = async (address: string) => {
			const client = await SignalingClient.connect(node.url, {
				token: await node.tokens.issue({ sub: `c${spoofs}`, rooms: ['*'] }), headers: { 'X-Forwarded-For': forwardedFor(address) },
			});
			clients.push(client);
			return client;
		};
		await connect('203.0.113.9');
		await connect('203.0.113.9');
		await expect(connect('203.0.113.9')).rejects.toMatchObject({ code: 'limit_exceeded' });
		await expect(connect('203.0.113.10')).resolves.toBeInstanceOf(SignalingClient);
	});
});
