import { listNames, RoomNotices, SpeakerNotices } from '../../src/web/client/roomNotices';
import { FakeClock } from '../helpers/fakeClock';

describe('what the room view says to a screen reader (roomNotices.ts)', () => {
	let clock: FakeClock;
	let said: string[];
	beforeEach(() => {
		clock = new FakeClock(0);
		said = [];
	});

	describe('the active speaker, throttled', () => {
		const names: Record<string, string> = { a: 'Ada', b: 'Bob', c: 'Cy', me: 'Me' };
		const speakers = (gapMs = 5000) => new SpeakerNotices({ say: (t) => said.push(t), name: (id) => names[id], isLocal: (id) => id === 'me', clock, gapMs });

		test('the first speaker at once; a change within the gap waits for its end and says who speaks then', async () => {
			const s = speakers();
			s.speaker('a');
			expect(said).toEqual(['Ada is speaking']);
			await clock.advance(1000);
			s.speaker('b');
			await clock.advance(1000);
			s.speaker('c');
			expect(said).toEqual(['Ada is speaking']);
			await clock.advance(2999);
			expect(said).toEqual(['Ada is speaking']);
			await clock.advance(1);
			expect(said).toEqual(['Ada is speaking', 'Cy is speaking']);
			expect(clock.pending).toBe(0);
		});

		test('at most one line per gap, however fast the speaker changes', async () => {
			const s = speakers();
			for (let i = 0; i < 60; i++) {
				s.speaker(i % 2 === 0 ? 'a' : 'b');
				await clock.advance(500);
			}
			// 30 s of changes every half second: a line at 0, 5, 10, ... 25 s.
			expect(said.length).toBeLessThanOrEqual(6);
			expect(said.length).toBeGreaterThanOrEqual(5);
		});

		test('the same speaker again is not said again; nobody, yourself and a gone participant are never said', async () => {
			const s = speakers();
			s.speaker('a');
			await clock.advance(6000);
			s.speaker(null);
			s.speaker('a');
			s.speaker('me');
			expect(said).toEqual(['Ada is speaking']);
			s.speaker('x');
			await clock.advance(6000);
			expect(said).toEqual(['Ada is speaking']);
		});

		test('a change that goes back to silence before the gap ends says nothing', async () => {
			const s = speakers();
			s.speaker('a');
			s.speaker('b');
			s.speaker(null);
			await clock.advance(10_000);
			expect(said).toEqual(['Ada is speaking']);
			expect(clock.pending).toBe(0);
		});

		test('after you spoke, the last speaker speaking again is said', async () => {
			const s = speakers();
			s.speaker('a');
			await clock.advance(6000);
			s.speaker('me');
			s.speaker('a');
			expect(said).toEqual(['Ada is speaking', 'Ada is speaking']);
		});

		test('nothing after close', async () => {
			const s = speakers();
			s.speaker('a');
			s.speaker('b');
			s.close();
			await clock.advance(10_000);
			expect(said).toEqual(['Ada is speaking']);
		});
	});

	test('who is there on joining, who joins and leaves, a reconnection\'s changes, leaving', () => {
		const n = new RoomNotices((t) => said.push(t), clock);
		n.setLocalId('me');
		n.roster([{ id: 'a', displayName: 'Ada' }, { id: 'b', displayName: 'Bob' }]);
		n.joined({ id: 'c', displayName: 'Cy' });
		n.joined({ id: 'c', displayName: 'Cy' });
		n.left('a');
		n.left('a');
		n.roster([{ id: 'c', displayName: 'Cy' }, { id: 'd', displayName: 'Di' }]);
		n.close();
		n.close();
		expect(said).toEqual([
			'You joined the call with Ada and Bob.',
			'Cy joined',
			'Ada left',
			'Bob left',
			'Di joined',
			'You left the call.',
		]);
	});

	test('alone in the room', () => {
		const n = new RoomNotices((t) => said.push(t), clock);
		n.roster([]);
		expect(said).toEqual(['You joined the call. Nobody else is here yet.']);
	});

	test.each([[[], ''], [['Ada'], 'Ada'], [['Ada', 'Bob'], 'Ada and Bob'], [['Ada', 'Bob', 'Cy'], 'Ada, Bob and Cy']])('listNames(%j) = %j', (names, text) => {
		expect(listNames(names)).toBe(text);
	});
});
