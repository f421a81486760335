import { jwtVerify } from 'jose';
import { SwitchyardApiError, SwitchyardServer } from '../../sdk/src';

const SECRET = 'backend-secret-of-the-server-api-0123456789';

/** A SwitchyardServer whose fetch answers `status` with `body` and keeps what was asked. */
function serverAnswering(status: number, body: string) {
	const asked: { url: string; init: RequestInit }[] = [];
	const fake = (async (url: string, init: RequestInit) => {
		asked.push({ url, init });
		return new Response(status === 204 ? null : body, { status });
	}) as typeof fetch;
	return { asked, server: new SwitchyardServer({ url: 'https://media.example.org/sfu/', apiKey: 'backend', apiSecret: SECRET, fetch: fake }) };
}

// What test/integration/serverApi.test.ts cannot show against a real node: the requests as they go out,
// and answers a node never gives.
describe('the SDK\'s server API client', () => {
	test('each request carries a fresh 60 s HS256 token of the key, to the path under the base URL', async () => {
		const { asked, server } = serverAnswering(201, JSON.stringify({ token: 't', expiresAt: 'e' }));
		expect(await server.createToken({ identity: 'user-42', rooms: ['standup'] })).toEqual({ token: 't', expiresAt: 'e' });
		const [{ url, init }] = asked as [typeof asked[number]];
		expect([url, init.method, init.body]).toEqual(['https://media.example.org/sfu/api/v1/tokens', 'POST', '{"identity":"user-42","rooms":["standup"]}']);
		const headers = init.headers as Record<string, string>;
		expect(headers['Content-Type']).toBe('application/json');
		const { payload, protectedHeader } = await jwtVerify(headers.Authorization!.replace(/^Bearer /, ''), new TextEncoder().encode(SECRET));
		expect(protectedHeader).toEqual({ alg: 'HS256' });
		expect(payload).toEqual({ iss: 'backend', iat: expect.any(Number), exp: payload.iat! + 60 });
		expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(5);
	});

	test('room and participant ids are escaped into the path; a 204 is no body', async () => {
		const { asked, server } = serverAnswering(204, '');
		await expect(server.removeParticipant('a room', 'who/ever?')).resolves.toBeUndefined();
		await expect(server.endRoom('a room')).resolves.toBeUndefined();
		expect(asked.map(({ url, init }) => [init.method, url, init.body, (init.headers as Record<string, string>)['Content-Type']])).toEqual([
			['DELETE', 'https://media.example.org/sfu/api/v1/rooms/a%20room/participants/who%2Fever%3F', undefined, undefined],
			['DELETE', 'https://media.example.org/sfu/api/v1/rooms/a%20room', undefined, undefined],
		]);
	});

	test('muteTrack, updateParticipant and sendData send their bodies to their routes and give the answers as they came', async () => {
		const answer = { participants: 1, tracks: 2 };
		const { asked, server } = serverAnswering(200, JSON.stringify(answer));
		expect(await server.muteTrack('a room', 'who/ever?', { kind: 'audio', muted: true })).toEqual(answer);
		await server.muteTrack('standup', 'user-42', { producerId: 'p-1', muted: false });
		await server.updateParticipant('a room', 'who/ever?', { metadata: 'hand raised', permissions: { canPublish: false } });
		await server.updateParticipant('standup', 'user-42', { permissions: { canSubscribe: true } });
		await server.sendData('a room', 'ends in 5', { identities: ['user-42', 'user-43'], topic: 'schedule' });
		// Options left out are no fields of the body at all.
		await server.sendData('standup', 'hello');
		expect(asked.map(({ url, init }) => [init.method, url, init.body, (init.headers as Record<string, string>)['Content-Type']])).toEqual([
			['POST', 'https://media.example.org/sfu/api/v1/rooms/a%20room/participants/who%2Fever%3F/mute', '{"kind":"audio","muted":true}', 'application/json'],
			['POST', 'https://media.example.org/sfu/api/v1/rooms/standup/participants/user-42/mute', '{"producerId":"p-1","muted":false}', 'application/json'],
			['PATCH', 'https://media.example.org/sfu/api/v1/rooms/a%20room/participants/who%2Fever%3F',
				'{"metadata":"hand raised","permissions":{"canPublish":false}}', 'application/json'],
			['PATCH', 'https://media.example.org/sfu/api/v1/rooms/standup/participants/user-42', '{"permissions":{"canSubscribe":true}}', 'application/json'],
			['POST', 'https://media.example.org/sfu/api/v1/rooms/a%20room/data', '{"data":"ends in 5","identities":["user-42","user-43"],"topic":"schedule"}', 'application/json'],
			['POST', 'https://media.example.org/sfu/api/v1/rooms/standup/data', '{"data":"hello"}', 'application/json'],
		]);
		expect(await serverAnswering(200, '{"participants":2}').server.updateParticipant('standup', 'user-42', { metadata: '' })).toEqual({ participants: 2 });
		expect(await serverAnswering(200, '{"delivered":0}').server.sendData('empty', 'hello')).toEqual({ delivered: 0 });
	});

	test('an error body becomes a SwitchyardApiError with its status, code, message and details; anything else an unexpected_response', async () => {
		const error = { code: 'validation_failed', message: 'rooms: too small', details: { field: 'rooms' } };
		const refused = await serverAnswering(400, JSON.stringify({ error })).server.listRooms().catch((e: unknown) => e);
		expect(refused).toBeInstanceOf(SwitchyardApiError);
		expect(refused).toMatchObject({ name: 'SwitchyardApiError', status: 400, ...error });
		for (const [status, body] of [[502, '<html>Bad Gateway</html>'], [500, '{"error":"boom"}'], [503, ''], [200, 'not json']] as const) {
			await expect(serverAnswering(status, body).server.listRooms()).rejects.toMatchObject({
				status, code: 'unexpected_response', message: `HTTP ${status}: ${body}`,
			});
		}
	});
});
