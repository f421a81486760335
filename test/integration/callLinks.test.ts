import { api, signup } from '../helpers/accounts';
import { FakeClock } from '../helpers/fakeClock';
import { startTestNode, type TestNode } from '../helpers/node';

const DAY_MS = 86_400_000;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

// Call links (docs/http-api.md, Call links): an account makes links to group calls, lists and revokes
// them; anyone with one looks it up. A revoked, expired, unknown or malformed link answers the same 404.
describe('call links', () => {
	let node: TestNode;
	const clock = new FakeClock();
	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			accounts: { signupsPerHour: 10_000, loginsPerMinute: 10_000, searchesPerMinute: 10_000, relationWritesPerMinute: 10_000 },
			links: { unusedDays: 30, perAccount: 3 },
		}, { clock });
	});
	afterAll(() => node.close());

	/** The raw answer of the public lookup: status and the body's exact bytes. */
	async function lookup(id: string): Promise<[number, string]> {
		const res = await fetch(`${node.url}/api/links/${id}`);
		return [res.status, await res.text()];
	}

	test('create in both admit modes, list newest first, look up (public), revoke', async () => {
		const ada = await signup(node, 'link_ada', 'Ada Lovelace');
		const made = await api(node, ada.token, 'POST', '/api/me/links', { admit: 'anyone', title: '  Standup  ' });
		expect(made.status).toBe(201);
		const { id } = made.body;
		expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
		expect(Buffer.from(id, 'base64url')).toHaveLength(16);
		expect(made.body).toEqual({ id, path: `/l/${id}`, admit: 'anyone', title: 'Standup', createdAt: expect.stringMatching(ISO), lastUsedAt: made.body.createdAt, expiresAt: expect.stringMatching(ISO) });
		expect(Date.parse(made.body.expiresAt) - Date.parse(made.body.lastUsedAt)).toBe(30 * DAY_MS);

		await clock.advance(1000);
		const owner = await api(node, ada.token, 'POST', '/api/me/links', { admit: 'owner' });
		expect(owner).toMatchObject({ status: 201, body: { admit: 'owner', title: '' } });
		expect(owner.body.id).not.toBe(id);

		const listed = await api(node, ada.token, 'GET', '/api/me/links');
		expect(listed).toEqual({ status: 200, body: { links: [owner.body, made.body] } });

		// Anyone, no token: the title, who may join, and whose it is; it counts as a use.
		await clock.advance(5000);
		expect(await api(node, undefined, 'GET', `/api/links/${id}`)).toEqual({
			status: 200, body: { title: 'Standup', admit: 'anyone', owner: { handle: 'link_ada', displayName: 'Ada Lovelace', verified: false } },
		});
		const [after] = (await api(node, ada.token, 'GET', '/api/me/links')).body.links.filter((l: { id: string }) => l.id === id);
		expect(Date.parse(after.lastUsedAt) - Date.parse(made.body.lastUsedAt)).toBe(6000);

		// Another account cannot revoke it; the owner can, and then it is gone.
		const bob = await signup(node, 'link_bob');
		expect((await api(node, bob.token, 'DELETE', `/api/me/links/${id}`)).status).toBe(204);
		expect((await lookup(id))[0]).toBe(200);
		expect((await api(node, ada.token, 'DELETE', `/api/me/links/${id}`)).status).toBe(204);
		expect((await api(node, ada.token, 'DELETE', `/api/me/links/${id}`)).status).toBe(204);
		expect((await api(node, ada.token, 'GET', '/api/me/links')).body.links.map((l: { id: string }) => l.id)).toEqual([owner.body.id]);
		expect((await lookup(id))[0]).toBe(404);
	});

	test('at most links.perAccount live links: 409 conflict, and a revoke makes room', async () => {
		const cy = await signup(node, 'link_cy');
		const ids: string[] = [];
		for (let i = 0; i < 3; i++) {
			ids.push((await api(node, cy.token, 'POST', '/api/me/links', { admit: 'anyone', title: `t${i}` })).body.id);
		}
		expect(await api(node, cy.token, 'POST', '/api/me/links', { admit: 'anyone' })).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
		// Another account's count is its own.
		const dee = await signup(node, 'link_dee');
		expect((await api(node, dee.token, 'POST', '/api/me/links', { admit: 'owner' })).status).toBe(201);
		expect((await api(node, cy.token, 'DELETE', `/api/me/links/${ids[0]}`)).status).toBe(204);
		expect((await api(node, cy.token, 'POST', '/api/me/links', { admit: 'anyone' })).status).toBe(201);
	});

	test('revoked, expired, never made and malformed ids answer byte-identical 404s; a use keeps a link alive', async () => {
		const eve = await signup(node, 'link_eve');
		const make = async () => (await api(node, eve.token, 'POST', '/api/me/links', { admit: 'anyone' })).body.id as string;
		const [revoked, expiring, used] = [await make(), await make(), await make()];
		await api(node, eve.token, 'DELETE', `/api/me/links/${revoked}`);

		await clock.advance(20 * DAY_MS);
		expect((await lookup(used))[0]).toBe(200);
		await clock.advance(10 * DAY_MS);
		// `expiring` went unused for 30 days; `used` was looked up 10 days ago.
		expect((await api(node, eve.token, 'GET', '/api/me/links')).body.links.map((l: { id: string }) => l.id)).toEqual([used]);
		const answers = [await lookup(revoked), await lookup(expiring), await lookup('A'.repeat(22)), await lookup('no-such-link'), await lookup('bad!id%20here'), await lookup('x'.repeat(65))];
		expect(answers[0]).toEqual([404, JSON.stringify({ error: { code: 'not_found', message: 'no such call link' } })]);
		for (const answer of answers) {
			expect(answer).toEqual(answers[0]);
		}
		expect((await lookup(used))[0]).toBe(200);
		// An expired link does not count against the limit.
		expect((await api(node, eve.token, 'POST', '/api/me/links', { admit: 'owner' })).status).toBe(201);
	});

	test('validation: the body is strict; ids in paths are checked; a token is needed for one\'s own links', async () => {
		const fay = await signup(node, 'link_fay');
		const bad = async (body: unknown) => (await api(node, fay.token, 'POST', '/api/me/links', body)).body?.error?.code;
		for (const body of [{}, { admit: 'everyone' }, { admit: 'anyone', title: 'x'.repeat(65) }, { admit: 'anyone', title: 'a\u202eb' }, { admit: 'anyone', title: 'line\nbreak' },
			{ admit: 'anyone', title: 5 }, { admit: 'anyone', e2ee: 'secret' }, 'not json']) {
			expect([body, await bad(body)]).toEqual([body, 'validation_failed']);
		}
		expect((await api(node, fay.token, 'POST', '/api/me/links', { admit: 'anyone', title: 'x'.repeat(64) })).status).toBe(201);
		expect(await api(node, fay.token, 'DELETE', '/api/me/links/short')).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
		for (const [method, path] of [['POST', '/api/me/links'], ['GET', '/api/me/links'], ['DELETE', `/api/me/links/${'A'.repeat(22)}`]] as const) {
			expect((await api(node, undefined, method, path, method === 'POST' ? { admit: 'anyone' } : undefined)).status).toBe(401);
		}
	});

	test('deleting the account deletes its links', async () => {
		const gus = await signup(node, 'link_gus');
		const { id } = (await api(node, gus.token, 'POST', '/api/me/links', { admit: 'anyone', title: 'Gus' })).body;
		expect((await lookup(id))[0]).toBe(200);
		expect((await api(node, gus.token, 'DELETE', '/api/me', { password: 'pw-link_gus-secret' })).status).toBe(204);
		expect(await lookup(id)).toEqual([404, JSON.stringify({ error: { code: 'not_found', message: 'no such call link' } })]);
		expect(await node.store.link(id)).toBeUndefined();
	});
});
