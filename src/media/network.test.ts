import { createHmac } from 'node:crypto';
import { isPrivateAddress, natWarning, turnServers } from './network';

describe('media addresses and TURN', () => {
	test.each([
		['10.1.2.3', true], ['172.16.0.1', true], ['172.32.0.1', false], ['192.168.1.10', true], ['100.64.0.1', true],
		['203.0.113.7', false], ['127.0.0.1', false], ['fd00::1', true], ['2001:db8::1', false],
	])('%s private: %s', (address, expected) => {
		expect(isPrivateAddress(address)).toBe(expected);
	});

	test('warns for a wildcard or private listen address without an announced address', () => {
		expect(natWarning({ listenIp: '0.0.0.0', announcedAddress: null })).toContain('announcedAddress');
		expect(natWarning({ listenIp: '10.0.0.5', announcedAddress: null })).toContain('private address');
		expect(natWarning({ listenIp: '10.0.0.5', announcedAddress: '203.0.113.7' })).toBeUndefined();
		expect(natWarning({ listenIp: '127.0.0.1', announcedAddress: null })).toBeUndefined();
		expect(natWarning({ listenIp: '203.0.113.7', announcedAddress: null })).toBeUndefined();
	});

	test("TURN credentials follow coturn's REST API", () => {
		const turn = { urls: ['turn:turn.example.org:3478'], secret: 'a-shared-secret-123', credentialTtlSeconds: 600, relayOnly: false };
		const [server] = turnServers(turn, 'peer-1', 1_700_000_000_000);
		expect(server!.username).toBe('1700000600:peer-1');
		expect(server!.credential).toBe(createHmac('sha1', 'a-shared-secret-123').update('1700000600:peer-1').digest('base64'));
		expect(turnServers({ ...turn, urls: [] }, 'peer-1')).toEqual([]);
	});
});
