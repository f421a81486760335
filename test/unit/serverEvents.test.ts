import { checkServerEvent, takeServerEventViolations } from '../helpers/serverEvents';

describe('the server event check every integration test runs', () => {
	test('an event that matches its schema passes', () => {
		checkServerEvent('peer.left', { peerId: 'abc' });
		checkServerEvent('consumer.layersChanged', { consumerId: 'c1', layers: null });
		expect(takeServerEventViolations()).toEqual([]);
	});

	test('an event outside the protocol, or with data its schema refuses, is a violation', () => {
		checkServerEvent('peer.gone', { peerId: 'abc' });
		checkServerEvent('limit.exceeded', { code: 'limit_exceeded', limit: 'consumersPerPeer' });
		checkServerEvent('room.activeSpeaker', { peerId: 'a b', producerId: null });
		expect(takeServerEventViolations()).toEqual([
			'peer.gone: not a server event of the protocol',
			expect.stringMatching(/^limit\.exceeded: max: /),
			expect.stringMatching(/^room\.activeSpeaker: peerId: /),
		]);
	});
});
